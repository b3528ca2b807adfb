import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** What a QR code in a PNG says (undefined when none can be read): tests check images, not our renderer's inputs. */
export function decodeQrPng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height)?.data;
}
