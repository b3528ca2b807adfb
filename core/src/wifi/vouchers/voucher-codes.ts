import { randomInt } from 'node:crypto';

/**
 * MikHmon's alphabets: no look-alike characters (0/O, 1/l/I, q/g...), so a code read aloud or
 * copied from paper by a customer is typed right the first time.
 */
export const VOUCHER_ALPHABETS = {
  digits: '23456789',
  lower: 'abcdefghijkmnprstuvwxyz',
  upper: 'ABCDEFGHJKLMNPRSTUVWXYZ',
  mixed: '23456789abcdefghijkmnprstuvwxyzABCDEFGHJKLMNPRSTUVWXYZ',
} as const;

export type VoucherAlphabet = keyof typeof VOUCHER_ALPHABETS;
export const VOUCHER_ALPHABET_NAMES = Object.keys(VOUCHER_ALPHABETS) as [VoucherAlphabet, ...VoucherAlphabet[]];

export const VOUCHER_CODE_LENGTH = { min: 3, max: 16, default: 8 } as const;
export const VOUCHER_PREFIX_MAX_LENGTH = 6;
/** Letters and digits only: the prefix ends up in URLs, CSV files and RouterOS user names. */
export const VOUCHER_PREFIX_PATTERN = /^[A-Za-z0-9]{0,6}$/;

/** `length` characters drawn uniformly (node:crypto, no modulo bias) from `alphabet`. */
export function randomVoucherCode(alphabet: VoucherAlphabet, length: number): string {
  const characters = VOUCHER_ALPHABETS[alphabet];
  let code = '';
  for (let i = 0; i < length; i += 1) code += characters[randomInt(characters.length)];
  return code;
}

/** How many distinct codes of `length` characters `alphabet` can make. */
export function voucherCodeSpace(alphabet: VoucherAlphabet, length: number): number {
  return VOUCHER_ALPHABETS[alphabet].length ** length;
}
