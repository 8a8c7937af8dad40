import { PNG } from 'pngjs';
import type { XClient } from 'x11';
import { call } from './desktop.js';

const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;
/** Source rows read from the X server per request: a 7680-pixel-wide screen costs ~2 MiB a strip, not the whole frame. */
const STRIP_BYTES = 2 * 1024 * 1024;

/**
 * The root window as a PNG `width` pixels wide (the height keeps the screen's proportions): read from the X server in
 * strips of rows, each target pixel the mean of the screen pixels it covers (a thumbnail, not a sampled one). Assumes
 * the 24/32-bit TrueColor visuals of Xvfb and Xvnc (pixels stored B, G, R, X).
 */
export async function screenshotPng(x: { client: XClient; root: number }, screen: { width: number; height: number }, width: number): Promise<Buffer> {
  const height = Math.max(1, Math.round((screen.height * width) / screen.width));
  const out = new PNG({ width, height });
  const rowsPerStrip = Math.max(1, Math.floor(STRIP_BYTES / (screen.width * 4)));
  // target row ty covers screen rows [top(ty), top(ty + 1)); at least one when the picture is taller than the screen
  const top = (ty: number) => Math.floor((ty * screen.height) / height);
  const left = (tx: number) => Math.floor((tx * screen.width) / width);
  let ty = 0;
  while (ty < height) {
    // as many whole target rows as fit in one strip
    let last = ty;
    while (last + 1 < height && Math.max(top(last + 2), top(last + 1) + 1) - top(ty) <= rowsPerStrip) last++;
    const y0 = top(ty);
    const y1 = Math.min(screen.height, Math.max(top(last + 1), top(last) + 1));
    const strip = await call<{ depth: number; data: Buffer }>((cb) => x.client.GetImage(Z_PIXMAP, x.root, 0, y0, screen.width, y1 - y0, ALL_PLANES, cb));
    for (; ty <= last; ty++) {
      const sy0 = top(ty) - y0;
      const sy1 = Math.max(sy0 + 1, Math.min(y1, top(ty + 1)) - y0);
      for (let tx = 0; tx < width; tx++) {
        const sx0 = Math.min(screen.width - 1, left(tx));
        const sx1 = Math.max(sx0 + 1, Math.min(screen.width, left(tx + 1)));
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = sy0; sy < sy1; sy++) {
          for (let sx = sx0, at = (sy * screen.width + sx0) * 4; sx < sx1; sx++, at += 4) {
            b += strip.data[at] ?? 0;
            g += strip.data[at + 1] ?? 0;
            r += strip.data[at + 2] ?? 0;
          }
        }
        const count = (sy1 - sy0) * (sx1 - sx0);
        const o = (ty * width + tx) * 4;
        out.data[o] = Math.round(r / count);
        out.data[o + 1] = Math.round(g / count);
        out.data[o + 2] = Math.round(b / count);
        out.data[o + 3] = 255;
      }
    }
  }
  return PNG.sync.write(out);
}
