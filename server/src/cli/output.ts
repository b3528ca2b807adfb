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
