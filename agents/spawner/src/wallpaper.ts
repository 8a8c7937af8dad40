import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Decoded pixels, 4 bytes each (RGBA). */
export interface Rgba {
  width: number;
  height: number;
  data: Buffer;
}

export class UnsupportedImage extends Error {}

/** PNG or JPEG (by signature), decoded in JavaScript: no image tool is run. */
export async function decodeImage(path: string, maxPixels = 40_000_000): Promise<Rgba> {
  const bytes = await readFile(path);
  let image: Rgba;
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    const png = PNG.sync.read(bytes);
    image = { width: png.width, height: png.height, data: png.data };
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6 });
    image = { width: decoded.width, height: decoded.height, data: Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength) };
  } else {
    throw new UnsupportedImage('not a PNG or JPEG image');
  }
  if (image.width * image.height > maxPixels) throw new UnsupportedImage('image too large');
  return image;
}

const hex = (n: number) => Math.round(n).toString(16).padStart(2, '0');

/**
 * The color most of the image is made of: pixels (sampled) fall in 4-bit-per-channel buckets, and the fullest
 * bucket's mean is the answer, as "#rrggbb".
 */
export function dominantColor(image: Rgba): string {
  const buckets = new Map<number, { n: number; r: number; g: number; b: number }>();
  const pixels = image.width * image.height;
  const step = Math.max(1, Math.floor(pixels / 50_000));
  for (let p = 0; p < pixels; p += step) {
    const i = p * 4;
    const r = image.data[i] ?? 0;
    const g = image.data[i + 1] ?? 0;
    const b = image.data[i + 2] ?? 0;
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    const bucket = buckets.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
    bucket.n += 1;
    bucket.r += r;
    bucket.g += g;
    bucket.b += b;
    buckets.set(key, bucket);
  }
  let best = { n: 0, r: 0, g: 0, b: 0 };
  for (const bucket of buckets.values()) if (bucket.n > best.n) best = bucket;
  return best.n === 0 ? '#000000' : `#${hex(best.r / best.n)}${hex(best.g / best.n)}${hex(best.b / best.n)}`;
}

/** The image stretched to width×height (nearest neighbour), as 32-bit BGRX pixels for a 24-bit X visual. */
export function toBgrx(image: Rgba, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor((y * image.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor((x * image.width) / width));
      const s = (sy * image.width + sx) * 4;
      const d = (y * width + x) * 4;
      out[d] = image.data[s + 2] ?? 0;
      out[d + 1] = image.data[s + 1] ?? 0;
      out[d + 2] = image.data[s] ?? 0;
    }
  }
  return out;
}
