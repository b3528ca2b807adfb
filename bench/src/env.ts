/** A benchmark knob from the environment: a whole number >= 1, or the default when unset. */
export function positiveInteger(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${name} must be a whole number >= 1 (got "${value}")`);
  return parsed;
}
