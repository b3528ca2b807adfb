import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { UsageError } from '../output.js';

/** Parses `relais sim <name>` flags with node:util, then checks them with a zod schema (first issue as a usage error). */
export function parseSimFlags<Schema extends z.ZodType>(args: string[], options: NonNullable<ParseArgsConfig['options']>, schema: Schema): z.output<Schema> {
  const { values } = parseArgs({ args, strict: true, options });
  if (values.port === undefined) throw new UsageError('--port is required (0 picks a free port)');
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])} ${issue.message}`);
  }
  return parsed.data;
}
