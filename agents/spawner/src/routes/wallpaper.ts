import { copyFile, mkdir, realpath, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dataReply, HttpError, replies, type BusClient, type RoutesPlugin } from '@desktop-agents/kit';
import type { DisplayLink } from '../display.js';
import type { SettingsStore } from '../store.js';
import { decodeImage, dominantColor, toBgrx, UnsupportedImage, type DecodeLimits } from '../wallpaper.js';
import { ERRORS } from '../errors.js';

const IMAGE_REPLY = dataReply({ type: 'object', properties: { color: { type: 'string' }, subData: { type: 'string' } } });

const imgBody = {
  type: 'object',
  required: ['imgName'],
  properties: { imgName: { type: 'string', minLength: 1, maxLength: 255, messages: { required: 'No imgName provided', default: 'imgName must be a string' } } },
} as const;

/** Root-window images: ~/.wallpapers/NAME (a bare name, never a path) or the configured default image. */
export function wallpaperRoutes(
  display: DisplayLink,
  store: SettingsStore,
  bus: Pick<BusClient, 'publish'>,
  settings: { home: string; defaultImage: string | undefined; limits: Omit<DecodeLimits, 'root'> },
): RoutesPlugin {
  const show = async (path: string, missing: () => HttpError, root: string) => {
    let image;
    try {
      image = await decodeImage(path, { ...settings.limits, root });
    } catch (err) {
      if (err instanceof UnsupportedImage) throw ERRORS.UNSUPPORTED_IMAGE(err.message);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') throw missing();
      throw err;
    }
    const { width, height } = display.desktop.size;
    await display.desktop.setBackgroundImage(toBgrx(image, width, height));
    const color = dominantColor(image);
    await store.set('currentImgColor', color);
    bus.publish('display.setBackgroundBorderColor', color);
    return { code: 200, data: { color, subData: 'ok' } };
  };

  const current = join(settings.home, '.config', 'current_wallpaper');
  return async (app) => {
    app.post('/setBackgroundImage', { schema: { body: imgBody, response: replies(IMAGE_REPLY, { validated: true }) } }, async (request) => {
      const name = request.body.imgName;
      // a name only: `../x`, `a/b` or `.` never reach the filesystem
      if (name !== basename(name) || name === '.' || name === '..') throw ERRORS.UNKNOWN_IMAGE(name);
      const path = join(settings.home, '.wallpapers', name);
      const shown = await show(path, () => ERRORS.UNKNOWN_IMAGE(name), await realpath(settings.home));
      // kept for setDefaultImage, as the original keeps ~/.config/current_wallpaper
      await mkdir(join(settings.home, '.config'), { recursive: true });
      const temp = join(settings.home, '.config', '.current_wallpaper.tmp');
      await copyFile(path, temp);
      await rename(temp, current);
      return shown;
    });
    // the last image set again; else the operator's default image, wherever it is configured
    app.post('/setDefaultImage', { schema: { response: replies(IMAGE_REPLY) } }, async () => {
      try {
        return await show(current, ERRORS.IMAGE_FILE_NOT_FOUND, await realpath(settings.home));
      } catch (err) {
        if (!(err instanceof HttpError && err.code === 'IMAGE_FILE_NOT_FOUND') || !settings.defaultImage) throw err;
        return show(settings.defaultImage, ERRORS.IMAGE_FILE_NOT_FOUND, '/');
      }
    });
  };
}
