import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { COMMENT_MAX_LENGTH, rowRejection } from './import-messages.js';
import { mikhmonRowFields } from './mikhmon-csv.js';
import { plainListFields } from './plain-list.js';
import { isUserSection, parseScriptLine, scriptUserFields } from './routeros-script.js';
import { checkVoucherFields, type CheckedVoucher } from './voucher-fields.js';
import { detectVoucherFileFormat, isMikhmonHeader, isPlainListHeader, isSignificantLine, type DetectedFormat, type TextEncoding } from './voucher-file-format.js';

/** One row of the file, checked, with the line it starts on (1-based, header included). */
export type VoucherFileRow = CheckedVoucher & { line: number };

export interface VoucherFile {
  detected: DetectedFormat;
  /**
   * Reads the rest of the file, yielding its rows a chunk (~64 KiB) at a time: nothing holds the
   * whole file, and per-row work stays synchronous.
   */
  batches(): AsyncGenerator<VoucherFileRow[]>;
  /** Bytes consumed from the source so far. */
  readonly bytesRead: number;
  /** Lines that are not vouchers and not errors: other script sections, a repeated header... */
  readonly ignoredLines: number;
  /** SHA-256 (hex) of every byte read; of the whole file once batches() has finished. */
  sha256(): string;
}

/** Enough to see the first significant line of any real voucher file. */
const HEAD_BYTES = 64 * 1024;

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('a voucher file stream must yield bytes or strings');
}

/**
 * Opens a voucher file from a byte stream: reads its first 64 KiB to detect the format, then
 * batches() streams the rest. A file that is not a voucher list is still read to the end (for its
 * hash) but yields no row.
 */
export async function openVoucherFile(source: AsyncIterable<unknown>): Promise<VoucherFile> {
  const iterator = source[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  let bytesRead = 0;
  let ignoredLines = 0;
  const take = (value: unknown): Buffer => {
    const chunk = toBuffer(value);
    hash.update(chunk);
    bytesRead += chunk.length;
    return chunk;
  };
  const headChunks: Buffer[] = [];
  let headLength = 0;
  let exhausted = false;
  while (headLength < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    const chunk = take(next.value);
    headChunks.push(chunk);
    headLength += chunk.length;
  }
  const head = Buffer.concat(headChunks);
  const detected = detectVoucherFileFormat(head);

  async function* bytes(): AsyncGenerator<Buffer> {
    let done = exhausted;
    try {
      if (head.length > 0) yield head;
      while (!done) {
        const next = await iterator.next();
        if (next.done) done = true;
        else yield take(next.value);
      }
    } finally {
      // Stopped early (an error downstream): release the file.
      if (!done) await iterator.return?.();
    }
  }

  async function* batches(): AsyncGenerator<VoucherFileRow[]> {
    switch (detected.format) {
      case 'unknown':
        for await (const chunk of bytes()) void chunk;
        return;
      case 'mikhmon_csv':
        yield* mikhmonRows(text(bytes(), detected.encoding), detected.delimiter, () => (ignoredLines += 1));
        return;
      case 'routeros_script':
        yield* scriptRows(lines(text(bytes(), detected.encoding)), () => (ignoredLines += 1));
        return;
      case 'plain_list':
        yield* plainListRows(lines(text(bytes(), detected.encoding)), () => (ignoredLines += 1));
        return;
    }
  }

  return {
    detected,
    batches,
    get bytesRead() {
      return bytesRead;
    },
    get ignoredLines() {
      return ignoredLines;
    },
    sha256: () => hash.copy().digest('hex'),
  };
}

/** Text handed on at a time: a caller's stream may come as one buffer of the whole file. */
const TEXT_PIECE_BYTES = 64 * 1024;

/** Decodes a byte stream; the decoder drops a leading BOM and keeps characters cut between chunks. */
async function* text(source: AsyncIterable<Buffer>, encoding: TextEncoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  for await (const chunk of source) {
    for (let start = 0; start < chunk.length; start += TEXT_PIECE_BYTES) {
      const decoded = decoder.decode(chunk.subarray(start, start + TEXT_PIECE_BYTES), { stream: true });
      if (decoded) yield decoded;
    }
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

const withoutCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** Lines without their terminator (`\n` or `\r\n`), the complete ones of each chunk together. */
async function* lines(source: AsyncIterable<string>): AsyncGenerator<string[]> {
  let partial = '';
  for await (const chunk of source) {
    const pieces = (partial + chunk).split('\n');
    partial = pieces.pop()!;
    if (pieces.length > 0) yield pieces.map(withoutCr);
  }
  if (partial !== '') yield [withoutCr(partial)];
}

/** A record longer than this is a quote never closed: parse it as it is instead of waiting for more. */
const MAX_RECORD_CHARS = 1024 * 1024;

/**
 * CSV records (quotes, `""` escapes, CRLF) through papaparse's parser, fed chunk by chunk: the
 * last, possibly incomplete, record of a chunk is kept for the next one. (Papaparse's own Node
 * stream pauses every 16 rows and copies the rest of its input each time: quadratic on big chunks.)
 */
async function* csvRecords(source: AsyncIterable<string>, delimiter: string): AsyncGenerator<string[][]> {
  let parser: Papa.Parser | undefined;
  let partial = '';
  let baseIndex = 0;
  for await (const chunk of source) {
    // Line ending from the first chunk (the header line): a CRLF file keeps no stray \r in quoted cells.
    parser ??= new Papa.Parser({ delimiter, newline: /^[^\n]*\r\n/.test(chunk) ? '\r\n' : '\n', quoteChar: '"' });
    const aggregate = partial + chunk;
    const results = parser.parse(aggregate, baseIndex, true) as { data: string[][]; meta: { cursor: number } };
    partial = aggregate.substring(results.meta.cursor - baseIndex);
    baseIndex = results.meta.cursor;
    if (results.data.length > 0) yield results.data;
    if (partial.length > MAX_RECORD_CHARS) {
      yield (parser.parse(partial, baseIndex, false) as { data: string[][] }).data;
      baseIndex += partial.length;
      partial = '';
    }
  }
  if (parser && partial !== '') yield (parser.parse(partial, baseIndex, false) as { data: string[][] }).data;
}

function newlinesIn(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) count += 1;
  return count;
}

async function* mikhmonRows(source: AsyncIterable<string>, delimiter: string, ignore: () => void): AsyncGenerator<VoucherFileRow[]> {
  let line = 1;
  let headerSeen = false;
  for await (const records of csvRecords(source, delimiter)) {
    const rows: VoucherFileRow[] = [];
    for (const cells of records) {
      const here = line;
      const spanned = newlinesIn(cells);
      line += 1 + spanned;
      if (cells.every((cell) => cell.trim() === '')) continue;
      if (!headerSeen) {
        // The format was detected on this header (lines before it were blank or `#` comments).
        if (isMikhmonHeader(cells)) headerSeen = true;
        continue;
      }
      if (isMikhmonHeader(cells)) {
        ignore(); // files concatenated with their headers
        continue;
      }
      const fields = mikhmonRowFields(cells, delimiter);
      if (spanned > 0) {
        // A comment may hold a line break in a spreadsheet; anywhere else, or past the comment
        // limit, the row swallowed the next ones through a quote never closed.
        if (newlinesIn(cells.slice(0, 5)) > 0 || fields.comment.length > COMMENT_MAX_LENGTH) {
          rows.push({ line: here, kind: 'rejected', username: cells[0]?.trim().slice(0, 64), rejection: rowRejection('UNCLOSED_QUOTE') });
          continue;
        }
        fields.comment = fields.comment.replace(/\s*\r?\n\s*/g, ' ');
      }
      rows.push({ line: here, ...checkVoucherFields(fields) });
    }
    if (rows.length > 0) yield rows;
  }
}

async function* scriptRows(source: AsyncIterable<string[]>, ignore: () => void): AsyncGenerator<VoucherFileRow[]> {
  let section: string | undefined;
  let number = 0;
  let pending: { text: string; line: number } | undefined;
  function* handle(text: string, line: number): Generator<VoucherFileRow> {
    const parsed = parseScriptLine(text, section);
    switch (parsed.kind) {
      case 'section':
        section = parsed.section;
        return;
      case 'other':
        if (isSignificantLine(text)) ignore();
        return;
      case 'invalid':
        if (parsed.command === 'add' && isUserSection(parsed.section)) {
          yield { line, kind: 'rejected', rejection: rowRejection('SCRIPT_LINE_INVALID', parsed.reason) };
        } else ignore();
        return;
      case 'command': {
        if (parsed.command !== 'add' || !isUserSection(parsed.section)) {
          ignore();
          return;
        }
        const { disabled, ...fields } = scriptUserFields(parsed.attributes);
        if (disabled) {
          yield { line, kind: 'rejected', username: fields.username.slice(0, 64), rejection: rowRejection('USER_DISABLED') };
          return;
        }
        yield { line, ...checkVoucherFields(fields) };
      }
    }
  }
  for await (const chunk of source) {
    const rows: VoucherFileRow[] = [];
    for (const raw of chunk) {
      number += 1;
      // RouterOS wraps long lines with a trailing `\`; the continuation's indent is not content.
      const current = pending ? { text: pending.text + raw.trimStart(), line: pending.line } : { text: raw, line: number };
      if (current.text.endsWith('\\')) {
        pending = { text: current.text.slice(0, -1), line: current.line };
        continue;
      }
      pending = undefined;
      rows.push(...handle(current.text, current.line));
    }
    if (rows.length > 0) yield rows;
  }
  if (pending) yield [...handle(pending.text, pending.line)];
}

async function* plainListRows(source: AsyncIterable<string[]>, ignore: () => void): AsyncGenerator<VoucherFileRow[]> {
  let number = 0;
  let first = true;
  for await (const chunk of source) {
    const rows: VoucherFileRow[] = [];
    for (const raw of chunk) {
      number += 1;
      if (!isSignificantLine(raw)) continue;
      if (first) {
        first = false;
        if (isPlainListHeader(raw)) {
          ignore();
          continue;
        }
      }
      rows.push({ line: number, ...checkVoucherFields(plainListFields(raw)) });
    }
    if (rows.length > 0) yield rows;
  }
}
