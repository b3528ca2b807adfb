import { fileRejection, type FileRejection } from './import-messages.js';

export const VOUCHER_FILE_FORMATS = ['mikhmon_csv', 'routeros_script', 'plain_list'] as const;
export type VoucherFileFormat = (typeof VOUCHER_FILE_FORMATS)[number];

export type TextEncoding = 'utf-8' | 'utf-16le' | 'windows-1252';

export type DetectedFormat =
  | { format: 'mikhmon_csv'; encoding: TextEncoding; delimiter: ',' | ';' | '\t' }
  | { format: 'routeros_script' | 'plain_list'; encoding: TextEncoding }
  | { format: 'unknown'; rejection: FileRejection };

const MIKHMON_COLUMNS = ['username', 'password', 'profile', 'timelimit', 'datalimit', 'comment'];
const DELIMITERS = [',', ';', '\t'] as const;
/** A plain list may start with one of these words as a header. */
const PLAIN_LIST_HEADERS = new Set(['code', 'codes', 'voucher', 'vouchers', 'username', 'usernames', 'ticket', 'tickets', 'login']);

const MAGIC: { bytes: number[]; kind: string }[] = [
  { bytes: [0x25, 0x50, 0x44, 0x46], kind: 'PDF' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], kind: 'Excel .xlsx / ZIP' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], kind: 'Excel .xls' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], kind: 'PNG' },
  { bytes: [0xff, 0xd8, 0xff], kind: 'JPEG' },
  { bytes: [0x1f, 0x8b], kind: 'gzip' },
];

function startsWith(head: Uint8Array, bytes: number[]): boolean {
  return bytes.every((byte, i) => head[i] === byte);
}

/**
 * How to decode the file: UTF-16 when it says so with its BOM (a spreadsheet's "Unicode text"),
 * UTF-8 when the start is valid UTF-8, else Windows-1252 (Excel's "CSV" on a French Windows).
 */
function encodingOf(head: Uint8Array): TextEncoding {
  if (startsWith(head, [0xff, 0xfe])) return 'utf-16le';
  try {
    // stream: a character cut at the end of the head is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** The lines that say what a file is: not blank, not a `#` comment. */
export function isSignificantLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

/** Header cells as compared: quotes, case, spaces and underscores do not matter. */
export function normaliseHeaderCell(cell: string): string {
  return cell.trim().replace(/^"(.*)"$/s, '$1').toLowerCase().replace(/[\s_]+/g, '');
}

export function isMikhmonHeader(cells: readonly string[]): boolean {
  return cells.length === MIKHMON_COLUMNS.length && cells.every((cell, i) => normaliseHeaderCell(cell) === MIKHMON_COLUMNS[i]);
}

export function isPlainListHeader(line: string): boolean {
  return PLAIN_LIST_HEADERS.has(line.trim().toLowerCase());
}

/** `/ip hotspot user`, `/ip/hotspot/user/add ...`, `add name=...`, `:foreach ...`: RouterOS script syntax. */
const SCRIPT_LINE = /^(?:\/[a-z]|add\s|:[a-z])/i;

/**
 * Says which voucher format the first bytes of a file are in (64 KiB are plenty: only the
 * first significant line decides), or why the file is not a voucher list at all.
 */
export function detectVoucherFileFormat(head: Uint8Array): DetectedFormat {
  if (head.length === 0) return { format: 'unknown', rejection: fileRejection('FILE_EMPTY') };
  const magic = MAGIC.find((m) => startsWith(head, m.bytes));
  if (magic) return { format: 'unknown', rejection: fileRejection('FILE_BINARY', magic.kind) };
  const encoding = encodingOf(head);
  // A NUL byte never appears in UTF-8 or Windows-1252 text.
  if (encoding !== 'utf-16le' && head.includes(0)) return { format: 'unknown', rejection: fileRejection('FILE_BINARY', 'binary') };
  const text = new TextDecoder(encoding).decode(head);
  const first = text.split(/\r\n|\r|\n/).find(isSignificantLine);
  if (first === undefined) return { format: 'unknown', rejection: fileRejection('FILE_EMPTY') };
  const line = first.trim();
  if (SCRIPT_LINE.test(line)) return { format: 'routeros_script', encoding };
  for (const delimiter of DELIMITERS) {
    if (isMikhmonHeader(line.split(delimiter))) return { format: 'mikhmon_csv', encoding, delimiter };
  }
  if (/[,;\t]/.test(line)) return { format: 'unknown', rejection: fileRejection('FILE_UNKNOWN_HEADER', line) };
  if (/^\S+$/.test(line)) return { format: 'plain_list', encoding };
  return { format: 'unknown', rejection: fileRejection('FILE_UNRECOGNISED', line) };
}
