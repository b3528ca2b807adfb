import type { Database } from '@relais/db';
import type { Clock } from '../shared/ports/clock.js';

export interface TicketDeps {
  db: Database;
  clock: Clock;
}
