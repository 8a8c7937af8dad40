import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { okReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import { FILE_ERRORS } from '../errors.js';
import { withFolder } from '../paths.js';
import { deleteBody, forbidden, pathErrors, type RouteContext } from './common.js';

/** DELETE PREFIX { file, recursive? }: the entry itself, through its folder's descriptor. */
export function deleteRoute({ prefix, options }: RouteContext): RoutesPlugin {
  const { root, switches } = options;
  return async (app) => {
    app.delete(prefix, { schema: { body: deleteBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      if (!switches.remove) throw forbidden();
      // the entry itself (a symlink is deleted as a link, never what it points to), through its folder's descriptor
      const { folder, name } = await root.entry(request.body.file).catch(pathErrors('Not Found'));
      await withFolder(root.real, folder, async (dir) => {
        const isFolder = (await lstat(dir.at(name))).isDirectory();
        if (isFolder && request.body.recursive !== true) throw FILE_ERRORS.IS_A_FOLDER();
        await rm(dir.at(name), { recursive: isFolder, force: false });
      }).catch(pathErrors('Not Found'));
      request.log.info({ path: root.relative(join(folder, name)) }, 'deleted');
      return { code: 200, data: 'ok' };
    });
  };
}
