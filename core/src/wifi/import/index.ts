/** Voucher import: what other packages (CLI, web app, tests, bench) may use. */
export * from './import-vouchers.js';
export {
  FILE_REJECTION_CODES,
  MIKHMON_HEADER_TEXT,
  ROW_REJECTION_CODES,
  type FileRejection,
  type FileRejectionCode,
  type RowRejection,
  type RowRejectionCode,
} from './import-messages.js';
export { formatMikhmonCsv, type MikhmonExportRow } from './mikhmon-csv.js';
export { openVoucherFile, type VoucherFile, type VoucherFileRow } from './read-voucher-file.js';
export { detectVoucherFileFormat, VOUCHER_FILE_FORMATS, type VoucherFileFormat } from './voucher-file-format.js';
export { checkVoucherFields, isAlreadyUsedComment, type ImportedVoucher, type RawVoucherFields } from './voucher-fields.js';
