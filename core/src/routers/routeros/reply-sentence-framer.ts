/**
 * Cuts the bytes a router sends into whole API sentences (words, each length-prefixed, ended by
 * an empty word; shared/INTEGRATIONS.md). node-routeros's own parser is then fed one complete
 * sentence at a time, which keeps it away from the reply words and chunk boundaries it mishandles
 * (docs/decisions/007-routeros-client.md).
 */

export class RouterOsProtocolError extends Error {
  override name = 'RouterOsProtocolError';
}

export interface FramedSentence {
  /** The first word: `!re`, `!done`, `!trap`, `!fatal`, `!empty`... or anything a broken router sends. */
  replyWord: string;
  /** The second word, kept for `!fatal`, whose reason follows the reply word. */
  secondWord?: string;
  /** The sentence exactly as received, empty word included. */
  bytes: Buffer;
}

type LengthPrefix = { length: number; prefixBytes: number } | { missingFromOffset: number };

function readLengthPrefix(data: Buffer, offset: number): LengthPrefix {
  const first = data[offset];
  if (first === undefined) return { missingFromOffset: 1 };
  if (first >= 0xf8) throw new RouterOsProtocolError(`reserved length prefix 0x${first.toString(16)}`);
  const prefixBytes = first < 0x80 ? 1 : first < 0xc0 ? 2 : first < 0xe0 ? 3 : first < 0xf0 ? 4 : 5;
  if (offset + prefixBytes > data.length) return { missingFromOffset: prefixBytes };
  if (prefixBytes === 5) return { length: data.readUInt32BE(offset + 1), prefixBytes };
  let length = first & [0, 0x7f, 0x3f, 0x1f, 0x0f][prefixBytes]!;
  for (let index = 1; index < prefixBytes; index += 1) length = length * 256 + data[offset + index]!;
  return { length, prefixBytes };
}

export class ReplySentenceFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the incomplete sentence needs before another parse can make progress. */
  private needed = 1;

  /** `maxWordBytes`: a longer word means the stream is not the API protocol (or is hostile). */
  constructor(private readonly maxWordBytes: number) {}

  /** Adds received bytes; returns the sentences they complete. Throws RouterOsProtocolError. */
  push(chunk: Buffer): FramedSentence[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    // Joined only once the missing bytes are there: a 3 MB word costs one copy, not one per chunk.
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const sentences: FramedSentence[] = [];
    let sentenceStart = 0;
    let offset = 0;
    let words: string[] = [];
    for (;;) {
      const prefix = readLengthPrefix(data, offset);
      if ('missingFromOffset' in prefix) {
        this.needed = offset - sentenceStart + prefix.missingFromOffset;
        break;
      }
      if (prefix.length > this.maxWordBytes) throw new RouterOsProtocolError(`a word of ${prefix.length} bytes is over the limit`);
      const wordEnd = offset + prefix.prefixBytes + prefix.length;
      if (wordEnd > data.length) {
        this.needed = wordEnd - sentenceStart;
        break;
      }
      if (prefix.length === 0) {
        if (words.length > 0) sentences.push({ replyWord: words[0]!, secondWord: words[1], bytes: data.subarray(sentenceStart, wordEnd) });
        words = [];
        sentenceStart = wordEnd;
      } else if (words.length < 2) {
        // Only the first two words matter here; the rest is decoded by node-routeros.
        words.push(data.toString('latin1', offset + prefix.prefixBytes, Math.min(wordEnd, offset + prefix.prefixBytes + 1_024)));
      } else {
        words.push('');
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
