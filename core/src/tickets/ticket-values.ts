import { TICKET_PRIORITIES, TICKET_STATUSES } from '@relais/db';
import { z } from 'zod';

export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

export const ticketStatusSchema = z.enum(TICKET_STATUSES);
export const ticketPrioritySchema = z.enum(TICKET_PRIORITIES);
export const tagSchema = z.string().trim().min(1).max(40);
