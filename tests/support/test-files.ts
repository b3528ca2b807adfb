import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';

/** A real PNG of random pixels: a "photo" whose bytes are unique to each call. */
export function randomPng(width = 8, height = 8): Buffer {
  const png = new PNG({ width, height });
  randomBytes(width * height * 4).copy(png.data);
  return PNG.sync.write(png);
}

/** A Windows executable's first bytes under a photo's name: the declared type must not be trusted. */
export function disguisedExecutable(): Buffer {
  return Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), randomBytes(512)]);
}

/** A JPEG-looking file one byte over the 10 MB attachment limit. */
export function oversizedJpeg(extraBytes = 1): Buffer {
  const bytes = Buffer.alloc(10 * 1024 * 1024 + extraBytes, 0x20);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
  return bytes;
}
