/**
 * MikHmon's hotspot user export: header `Username,Password,Profile,Time Limit,Data Limit,Comment`,
 * cells joined with `,` without quoting, rows joined with `\n`, no trailing newline. Time Limit is
 * a RouterOS duration, Data Limit raw bytes; empty, `0` or `0s` mean no limit.
 */
import { MIKHMON_HEADER_TEXT } from './import-messages.js';
import type { RawVoucherFields } from './voucher-fields.js';

/** A row's cells as papaparse split them; a comma inside the comment made extra cells. */
export function mikhmonRowFields(cells: readonly string[], delimiter: string): RawVoucherFields {
  return {
    username: cells[0] ?? '',
    password: cells[1] ?? '',
    profile: cells[2] ?? '',
    timeLimit: cells[3] ?? '',
    dataLimit: cells[4] ?? '',
    // MikHmon does not quote: everything after the fifth separator is the comment.
    comment: cells.slice(5).join(delimiter),
  };
}

export interface MikhmonExportRow {
  username: string;
  password: string;
  profile: string;
  /** RouterOS duration as MikHmon prints it (`1d`), or '' for none. */
  timeLimit: string;
  /** Raw bytes as MikHmon prints them, or '' for none. */
  dataLimit: string;
  comment: string;
}

/** Writes rows exactly as MikHmon's export does (the reference the parser is tested against). */
export function formatMikhmonCsv(rows: readonly MikhmonExportRow[]): string {
  const lines = rows.map((row) => [row.username, row.password, row.profile, row.timeLimit, row.dataLimit, row.comment].join(','));
  return [MIKHMON_HEADER_TEXT, ...lines].join('\n');
}
