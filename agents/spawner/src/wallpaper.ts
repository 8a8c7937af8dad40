import { NotRegularFile, openInside, PathNotFound, PathOutsideRoot } from '@desktop-agents/files';

/** Decoded pixels, 4 bytes each (RGBA). */
export interface Rgba {
  width: number;
  height: number;
  data: Buffer;
}

export class UnsupportedImage extends Error {}

export interface DecodeLimits {
  /** Images are read only from inside this folder (after symlinks). */
  root: string;
  /** Largest file read. */
  maxBytes: number;
  /** Largest width × height decoded: refused from the header, before any pixel memory is taken. */
  maxPixels: number;
  /**
   * Most bytes the compressed pixels may inflate to: what the header implies (depth, channels, interlacing) is checked
   * first, and the inflating itself is cut there, so a stream that inflates past what its header declares is refused
   * with at most this much memory taken.
   */
  maxDecodedBytes: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG channels by color type (gray, -, RGB, palette, gray + alpha, -, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7's seven passes: first column and row, then steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The bytes a PNG's pixel stream inflates to, from its header: each row's filter byte and pixels, per pass when interlaced. */
export function pngInflatedSize(bytes: Buffer): number {
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const depth = bytes[24] ?? 0;
  const channels = PNG_CHANNELS[bytes[25] ?? -1];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new UnsupportedImage('not a PNG color type and bit depth');
  const row = (w: number) => Math.ceil((w * channels * depth) / 8) + 1;
  if (bytes[28] !== 1) return height * row(width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * row(w);
  }
  return total;
}

/** The PNG's IDAT chunks joined: its compressed pixel stream. */
function pngPixelStream(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > bytes.length) throw new UnsupportedImage('a PNG chunk runs past the end of the file');
    if (type === 'IDAT') parts.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

/**
 * Refuses a PNG whose pixels would take more than `maxDecodedBytes` once inflated, as its header declares them and
 * as its stream really inflates (cut at that size while inflating: a zlib bomb behind a small header, which the
 * decoder would inflate whole when the image is interlaced).
 */
async function checkPngInflation(bytes: Buffer, maxDecodedBytes: number): Promise<void> {
  const declared = pngInflatedSize(bytes);
  if (declared > maxDecodedBytes) throw new UnsupportedImage(`image pixels take ${declared} bytes, over ${maxDecodedBytes}`);
  const { inflateSync } = await import('node:zlib');
  try {
    inflateSync(pngPixelStream(bytes), { maxOutputLength: declared + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new UnsupportedImage('image data inflates past what its header declares');
    throw new UnsupportedImage(`image data does not inflate: ${(err as Error).message}`);
  }
}

/** Width and height as the header declares them (PNG IHDR, JPEG SOFn), or undefined when there is none. */
export function declaredSize(bytes: Buffer): { width: number; height: number; format: 'png' | 'jpeg' } | undefined {
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.toString('latin1', 12, 16) === 'IHDR') {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), format: 'png' };
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  // walk the JPEG segments up to the first start-of-frame (C0-CF but C4 DHT, C8 JPG, CC DAC)
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1] ?? 0;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7), format: 'jpeg' };
    }
    if (marker === 0xd9 || marker === 0xda) return undefined;
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  return undefined;
}

/** Reads a regular file inside root (opened without blocking, checked on its descriptor), at most maxBytes. */
async function readBounded(root: string, path: string, maxBytes: number): Promise<Buffer> {
  let opened;
  try {
    opened = await openInside(root, path);
  } catch (err) {
    if (err instanceof PathNotFound) throw Object.assign(new Error('no such image'), { code: 'ENOENT' });
    if (err instanceof PathOutsideRoot || err instanceof NotRegularFile) throw new UnsupportedImage(err.message);
    throw err;
  }
  const { handle, stat } = opened;
  try {
    if (stat.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    if (stat.size > maxBytes) throw new UnsupportedImage(`file over ${maxBytes} bytes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * PNG or JPEG (by signature), decoded in JavaScript: no image tool is run. The declared size is checked before the
 * decoder runs, so a small file declaring a huge image costs nothing; what declares no size is refused.
 */
export async function decodeImage(path: string, limits: DecodeLimits): Promise<Rgba> {
  const bytes = await readBounded(limits.root, path, limits.maxBytes);
  const size = declaredSize(bytes);
  if (!size) throw new UnsupportedImage('not a PNG or JPEG image with a readable size');
  if (size.width === 0 || size.height === 0 || size.width * size.height > limits.maxPixels) {
    throw new UnsupportedImage(`image of ${size.width}x${size.height} is over ${limits.maxPixels} pixels`);
  }
  let image: Rgba;
  if (size.format === 'png') {
    // the decoders are loaded when a wallpaper is first set: an idle spawner does not hold them
    await checkPngInflation(bytes, limits.maxDecodedBytes);
    const { PNG } = await import('pngjs');
    const png = PNG.sync.read(bytes);
    image = { width: png.width, height: png.height, data: png.data };
  } else {
    const { default: jpeg } = await import('jpeg-js');
    const decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(1, Math.floor(limits.maxDecodedBytes / 2 ** 20)),
    });
    image = { width: decoded.width, height: decoded.height, data: Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength) };
  }
  if (image.width * image.height > limits.maxPixels) throw new UnsupportedImage('image too large');
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
