/**
 * RouterOS value formats, shared by the voucher import (MikHmon's Time Limit / Data Limit) and
 * the RouterOS adapter (uptime, bytes-in...). Durations are whole seconds; bytes are integers.
 */

const UNIT_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };
const UNIT_DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
/** RouterOS also prints `1d02:03:04`, `02:03:04` or `2w1d02:03:04` (and fractions: `00:00:01.5`). */
const CLOCK_DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$/;

/**
 * Parses a RouterOS duration (`1w2d3h4m5s`, `30m`, `500ms`, `1d02:03:04`, a bare number of
 * seconds) into whole seconds (milliseconds are dropped). Returns undefined when it is not one.
 */
export function parseRouterOsDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const units = UNIT_DURATION.exec(value);
  if (units) {
    const [, w, d, h, m, s] = units;
    return seconds({ w, d, h, m, s });
  }
  const clock = CLOCK_DURATION.exec(value);
  if (clock) {
    const [, w, d, h, m, s] = clock;
    if (Number(m) > 59 || Number(s) > 59) return undefined;
    return seconds({ w, d, h, m, s });
  }
  return undefined;
}

function seconds(parts: Record<string, string | undefined>): number {
  let total = 0;
  for (const [unit, digits] of Object.entries(parts)) if (digits) total += Number(digits) * UNIT_SECONDS[unit]!;
  return total;
}

/** Formats whole seconds the way RouterOS accepts and prints them: `1w2d3h4m5s`, `0s` for zero. */
export function formatRouterOsDuration(totalSeconds: number): string {
  if (!Number.isSafeInteger(totalSeconds) || totalSeconds < 0) throw new RangeError(`not a duration in seconds: ${totalSeconds}`);
  if (totalSeconds === 0) return '0s';
  let rest = totalSeconds;
  let text = '';
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Parses a byte count: raw digits as RouterOS and MikHmon write them, or with a binary unit
 * (`500M`, `1G`, `1.5GB`, `2 GiB`; MikHmon's MB/GB are binary: 1 GB = 1 073 741 824).
 * Returns undefined when it is not one.
 */
export function parseByteCount(text: string): number | undefined {
  const match = /^(\d+(?:[.,]\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  const [, digits, unit] = match;
  const bytes = Number(digits!.replace(',', '.')) * BYTE_UNITS[unit!.toLowerCase()]!;
  if (!Number.isFinite(bytes)) return undefined;
  const whole = Math.round(bytes);
  return Number.isSafeInteger(whole) ? whole : undefined;
}

/** A limit cell: empty, `0` or `0s` mean "no limit" (undefined); anything unreadable is an error (null). */
export function parseDurationLimit(text: string): number | undefined | null {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = parseRouterOsDuration(trimmed);
  if (value === undefined) return null;
  return value === 0 ? undefined : value;
}

/** See parseDurationLimit: the same rule for byte limits. */
export function parseByteLimit(text: string): number | undefined | null {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = parseByteCount(trimmed);
  if (value === undefined) return null;
  return value === 0 ? undefined : value;
}
