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
