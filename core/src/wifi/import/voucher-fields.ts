import { parseByteLimit, parseDurationLimit } from '../../routers/routeros-values.js';
import {
  COMMENT_MAX_LENGTH,
  PASSWORD_LENGTH,
  PROFILE_MAX_LENGTH,
  rowRejection,
  USERNAME_LENGTH,
  type RowRejection,
} from './import-messages.js';

/** One voucher as the file gives it, before validation (every format maps its row to this). */
export interface RawVoucherFields {
  username: string;
  /** undefined: the format had no password at all (a RouterOS export without show-sensitive). */
  password: string | undefined;
  profile: string;
  timeLimit: string;
  dataLimit: string;
  comment: string;
}

/** A voucher ready for the stock; null limits and profile mean "the package's". */
export interface ImportedVoucher {
  username: string;
  password: string;
  profile: string | null;
  timeLimitSeconds: number | null;
  dataLimitBytes: number | null;
  comment: string | null;
}

export type CheckedVoucher =
  | { kind: 'voucher'; voucher: ImportedVoucher }
  | { kind: 'already_used'; username: string }
  | { kind: 'rejected'; username?: string; rejection: RowRejection };

// Safe in a chat message, an SMS, a login URL and a QR code without escaping.
const USERNAME = new RegExp(`^[A-Za-z0-9._@+-]{${USERNAME_LENGTH.min},${USERNAME_LENGTH.max}}$`);
// Printable ASCII less what breaks MikHmon's unquoted CSV or a RouterOS script: space " \ , ;
const PASSWORD = new RegExp(`^[!#-+\\--:<-\\[\\]-~]{${PASSWORD_LENGTH.min},${PASSWORD_LENGTH.max}}$`);
const PROFILE = new RegExp(`^[^\\u0000-\\u001f\\u007f"\\\\]{1,${PROFILE_MAX_LENGTH}}$`);
/** wifi_vouchers.time_limit_seconds is a PostgreSQL integer. */
const MAX_TIME_LIMIT_SECONDS = 2_147_483_647;

/**
 * After a voucher's first login MikHmon rewrites its comment to the login date: `jun/30/2021
 * 16:05:11`, or ISO `2021-06-30 16:05:11` on RouterOS 7.10+. Such a voucher has been used.
 */
const USED_DATE =
  /^(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\/[0-3]\d\/\d{4}|\d{4}-[01]\d-[0-3]\d) [0-2]\d:[0-5]\d:[0-5]\d(?:\s|$)/i;

export function isAlreadyUsedComment(comment: string): boolean {
  return USED_DATE.test(comment.trim());
}

/** Checks one row's fields; the first problem found is the reason given. */
export function checkVoucherFields(fields: RawVoucherFields): CheckedVoucher {
  const username = fields.username.trim();
  const comment = fields.comment.trim();
  if (isAlreadyUsedComment(comment)) return { kind: 'already_used', username };
  if (username === '') return reject('USERNAME_MISSING');
  if (!USERNAME.test(username)) return reject('USERNAME_INVALID', username);
  const rejectNamed = (code: Parameters<typeof rowRejection>[0], value?: string): CheckedVoucher => ({
    kind: 'rejected',
    username,
    rejection: rowRejection(code, value),
  });
  const password = fields.password?.trim();
  if (password === undefined || password === '') return rejectNamed('PASSWORD_MISSING');
  if (!PASSWORD.test(password)) return rejectNamed('PASSWORD_INVALID');
  const profile = fields.profile.trim();
  if (profile !== '' && !PROFILE.test(profile)) return rejectNamed('PROFILE_INVALID', profile);
  const timeLimitSeconds = parseDurationLimit(fields.timeLimit);
  if (timeLimitSeconds === null || (timeLimitSeconds ?? 0) > MAX_TIME_LIMIT_SECONDS) return rejectNamed('TIME_LIMIT_INVALID', fields.timeLimit.trim());
  const dataLimitBytes = parseByteLimit(fields.dataLimit);
  if (dataLimitBytes === null) return rejectNamed('DATA_LIMIT_INVALID', fields.dataLimit.trim());
  if (comment.length > COMMENT_MAX_LENGTH) return rejectNamed('COMMENT_TOO_LONG');
  return {
    kind: 'voucher',
    voucher: {
      username,
      password,
      profile: profile === '' ? null : profile,
      timeLimitSeconds: timeLimitSeconds ?? null,
      dataLimitBytes: dataLimitBytes ?? null,
      comment: comment === '' ? null : comment,
    },
  };
}

function reject(code: 'USERNAME_MISSING' | 'USERNAME_INVALID', value?: string): CheckedVoucher {
  return { kind: 'rejected', rejection: rowRejection(code, value) };
}
