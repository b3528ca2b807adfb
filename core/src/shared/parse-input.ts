import type { z } from 'zod';
import { AppError } from './app-error.js';

/**
 * Validates a use case's input: the first zod issue becomes a VALIDATION_FAILED whose message
 * ("port: Too big...") the CLI and the web app show as is.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_FAILED', `${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  return parsed.data;
}
