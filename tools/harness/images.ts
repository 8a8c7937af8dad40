import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';

/** A PNG of noise (incompressible) of about `bytes` bytes: a large clipboard image, a wallpaper that does not shrink. */
export function noisePng(bytes: number): Buffer {
  const side = Math.ceil(Math.sqrt(bytes / 4));
  const image = new PNG({ width: side, height: side });
  randomBytes(side * side * 4).copy(image.data);
  return PNG.sync.write(image);
}
