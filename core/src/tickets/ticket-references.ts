import { and, eq, isNull } from 'drizzle-orm';
import { teams, users, type Tx } from '@relais/db';
import { AppError } from '../shared/app-error.js';

/** VALIDATION_FAILED unless `userId` is an active user of the tenant (a ticket can be given to them). */
export async function assertActiveUser(tx: Tx, tenantId: string, userId: string): Promise<void> {
  const [user] = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, userId), isNull(users.disabledAt)));
  if (!user) throw new AppError('VALIDATION_FAILED', 'assignee: no active user of this workspace has this id');
}

/** VALIDATION_FAILED unless `teamId` is one of the tenant's teams. */
export async function assertTeamExists(tx: Tx, tenantId: string, teamId: string): Promise<void> {
  const [team] = await tx.select({ id: teams.id }).from(teams).where(and(eq(teams.tenantId, tenantId), eq(teams.id, teamId)));
  if (!team) throw new AppError('VALIDATION_FAILED', 'team: no team of this workspace has this id');
}
