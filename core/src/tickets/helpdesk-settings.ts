import { eq } from 'drizzle-orm';
import { helpdeskSettings, type Tx } from '@relais/db';

export interface HelpdeskBehaviour {
  reopenWindowHours: number;
  autoAssign: boolean;
  csatEnabled: boolean;
}

export const DEFAULT_HELPDESK_BEHAVIOUR: HelpdeskBehaviour = { reopenWindowHours: 72, autoAssign: true, csatEnabled: true };

/** The tenant's helpdesk switches (reopen window, auto-assignment, CSAT); defaults when never set. */
export async function loadHelpdeskBehaviour(tx: Tx, tenantId: string): Promise<HelpdeskBehaviour> {
  const [row] = await tx
    .select({ reopenWindowHours: helpdeskSettings.reopenWindowHours, autoAssign: helpdeskSettings.autoAssign, csatEnabled: helpdeskSettings.csatEnabled })
    .from(helpdeskSettings)
    .where(eq(helpdeskSettings.tenantId, tenantId));
  return row ?? DEFAULT_HELPDESK_BEHAVIOUR;
}
