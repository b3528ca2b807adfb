import { and, eq } from 'drizzle-orm';
import { cannedResponses, type Tx } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { cannedTemplateProblem } from './canned-placeholders.js';

/** What agents type after "/" to insert it: lowercase letters, digits, "-" and "_". */
export const CANNED_SHORTCUT_PATTERN = /^[a-z0-9_-]{1,32}$/;

const shortcut = z
  .string()
  .trim()
  // Agents type "/merci": the slash is how they call it, not part of the name.
  .transform((value) => value.replace(/^\//, ''))
  .pipe(z.string().regex(CANNED_SHORTCUT_PATTERN, 'use 1 to 32 lowercase letters, digits, "-" or "_" (e.g. "merci")'));

const body = z
  .string()
  .trim()
  .min(1)
  .max(4_000)
  .superRefine((template, context) => {
    const problem = cannedTemplateProblem(template);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

export const cannedResponseFields = {
  shortcut,
  title: z.string().trim().min(1).max(100),
  bodyFr: body,
  bodyEn: body,
};

export const createCannedResponseInput = z.object({ tenantId: z.uuid(), ...cannedResponseFields });
export type CreateCannedResponseInput = z.input<typeof createCannedResponseInput>;

export const updateCannedResponseInput = z.object({
  tenantId: z.uuid(),
  cannedResponseId: z.uuid(),
  shortcut: shortcut.optional(),
  title: cannedResponseFields.title.optional(),
  bodyFr: body.optional(),
  bodyEn: body.optional(),
});
export type UpdateCannedResponseInput = z.input<typeof updateCannedResponseInput>;

export interface CannedResponse {
  id: string;
  shortcut: string;
  title: string;
  bodyFr: string;
  bodyEn: string;
  createdAt: Date;
  updatedAt: Date;
}

export const cannedResponseColumns = {
  id: cannedResponses.id,
  shortcut: cannedResponses.shortcut,
  title: cannedResponses.title,
  bodyFr: cannedResponses.bodyFr,
  bodyEn: cannedResponses.bodyEn,
  createdAt: cannedResponses.createdAt,
  updatedAt: cannedResponses.updatedAt,
};

export const shortcutTaken = (value: string) =>
  new AppError('CONFLICT', `a canned response with shortcut "/${value}" already exists`, { details: { field: 'shortcut' } });

/** CONFLICT when another canned response of the tenant has this shortcut (the unique index is the backstop). */
export async function assertShortcutFree(tx: Tx, tenantId: string, value: string, exceptId?: string): Promise<void> {
  const [clash] = await tx
    .select({ id: cannedResponses.id })
    .from(cannedResponses)
    .where(and(eq(cannedResponses.tenantId, tenantId), eq(cannedResponses.shortcut, value)));
  if (clash && clash.id !== exceptId) throw shortcutTaken(value);
}
