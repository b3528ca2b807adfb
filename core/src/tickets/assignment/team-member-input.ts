import { z } from 'zod';

export const teamMemberInput = z.object({ tenantId: z.uuid(), teamId: z.uuid(), userId: z.uuid() });
