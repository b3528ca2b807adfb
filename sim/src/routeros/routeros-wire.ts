/**
 * The RouterOS API wire format (shared/INTEGRATIONS.md): a sentence is a list of words ended by an
 * empty word; each word is its length, then its bytes. Written here from the contract, apart from
 * any client's code, so that the simulator and our adapter check each other.
 *
 * Words are single-byte text (RouterOS speaks win1252); latin1 keeps every byte as it is.
 */

const WORD_ENCODING = 'latin1';

/** The length prefix of a word: 1 to 4 bytes, or 0xF0 + 4 bytes from 0x10000000 on. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`not a word length: ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >>> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >>> 16) | 0xc0, (length >>> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) return Buffer.from([(length >>> 24) | 0xe0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  return Buffer.from([0xf0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
}

export function encodeWord(word: string): Buffer[] {
  const bytes = Buffer.from(word, WORD_ENCODING);
  return [encodeLength(bytes.length), bytes];
}

/** One sentence: its words, then the empty word. */
export function encodeSentence(words: readonly string[]): Buffer {
  return encodeSentences([words]);
}

/** Writes the length prefix at `offset`; returns the offset after it. */
function writeLength(buffer: Buffer, offset: number, length: number): number {
  const bytes = prefixBytes(length);
  if (bytes === 1) {
    buffer[offset] = length;
    return offset + 1;
  }
  if (bytes === 5) {
    buffer[offset] = 0xf0;
    buffer.writeUInt32BE(length, offset + 1);
    return offset + 5;
  }
  const marker = [0, 0, 0x80, 0xc0, 0xe0][bytes]!;
  let rest = length;
  for (let index = bytes - 1; index >= 0; index -= 1) {
    buffer[offset + index] = rest & 0xff;
    rest = Math.floor(rest / 256);
  }
  buffer[offset] = buffer[offset]! | marker;
  return offset + bytes;
}

function prefixBytes(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5;
}

/**
 * Many sentences in one buffer, so a whole reply leaves in one write. Sized first and written in
 * place: a 2 000-row print is some 30 000 words, too many for a buffer each.
 */
export function encodeSentences(sentences: readonly (readonly string[])[]): Buffer {
  let total = 0;
  for (const words of sentences) {
    for (const word of words) total += prefixBytes(word.length) + word.length; // latin1: one byte per character
    total += 1;
  }
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const words of sentences) {
    for (const word of words) {
      offset = writeLength(buffer, offset, word.length);
      offset += buffer.write(word, offset, 'latin1');
    }
    buffer[offset++] = 0;
  }
  return buffer;
}

/**
 * Reads the length prefix at `offset`: the word length and the prefix size, or how many bytes
 * from `offset` on must be there before it can be read.
 */
export function decodeLength(buffer: Buffer, offset: number): { length: number; prefixBytes: number } | { missingFromOffset: number } {
  const first = buffer[offset];
  if (first === undefined) return { missingFromOffset: 1 };
  if (first >= 0xf8) throw new RangeError(`reserved length prefix 0x${first.toString(16)}`);
  const prefixBytes = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : 5;
  if (offset + prefixBytes > buffer.length) return { missingFromOffset: prefixBytes };
  if (prefixBytes === 5) return { length: buffer.readUInt32BE(offset + 1), prefixBytes };
  const markerMask = [0, 0x7f, 0x3f, 0x1f, 0x0f][prefixBytes]!;
  let length = first & markerMask;
  for (let index = 1; index < prefixBytes; index += 1) length = length * 256 + buffer[offset + index]!;
  return { length, prefixBytes };
}

/**
 * Turns a byte stream into sentences. Chunks are kept as they come and joined only once enough
 * bytes have arrived for the next word, so a 3 MB word costs one copy, not one per chunk.
 */
export class SentenceReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before parsing again can make progress. */
  private needed = 1;

  constructor(private readonly maxWordBytes: number = 64 * 1024 * 1024) {}

  /** Adds bytes; returns the sentences they complete (words in order, without the empty word). */
  push(chunk: Buffer): string[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const sentences: string[][] = [];
    let sentenceStart = 0;
    let offset = 0;
    let words: string[] = [];
    for (;;) {
      const prefix = decodeLength(data, offset);
      if ('missingFromOffset' in prefix) {
        this.needed = offset - sentenceStart + prefix.missingFromOffset;
        break;
      }
      if (prefix.length > this.maxWordBytes) throw new RangeError(`word of ${prefix.length} bytes is over the limit`);
      const wordEnd = offset + prefix.prefixBytes + prefix.length;
      if (wordEnd > data.length) {
        this.needed = wordEnd - sentenceStart;
        break;
      }
      if (prefix.length === 0) {
        sentences.push(words);
        words = [];
        sentenceStart = wordEnd;
      } else {
        words.push(data.toString(WORD_ENCODING, offset + prefix.prefixBytes, wordEnd));
      }
      offset = wordEnd;
    }
    const rest = data.subarray(sentenceStart);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    if (rest.length === 0) this.needed = 1;
    return sentences;
  }
}
