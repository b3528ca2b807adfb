import type { RawVoucherFields } from './voucher-fields.js';

/** A list of codes, one per line: each code is both username and password (MikHmon's "vc" mode). */
export function plainListFields(line: string): RawVoucherFields {
  const code = line.trim();
  return { username: code, password: code, profile: '', timeLimit: '', dataLimit: '', comment: '' };
}
