import type { z } from 'zod';
/** Where commands write: stdout for results, stderr for notes. Injected so tests can read them. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A wrong command line: shown with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints rows under a header, columns padded to their widest cell. */
export function printTable(output: CliOutput, header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  for (const row of [header, ...rows]) output.out(row.map((cell, i) => (cell ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}

/**
 * Validates parsed flags with a zod schema; the first problem becomes a UsageError naming the
 * flag ("--file is required"), unless the schema's message already names it.
 */
export function parseFlags<T extends z.ZodType>(schema: T, values: unknown): z.output<T> {
  const flags = schema.safeParse(values);
  if (flags.success) return flags.data;
  const issue = flags.error.issues[0]!;
  throw new UsageError(issue.message.startsWith('--') ? issue.message : `--${issue.path.join('.')} ${issue.message}`);
}
