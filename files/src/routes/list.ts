import { dataReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import { FILE_ERRORS } from '../errors.js';
import { entriesOf, entryReply, listByAge } from '../folder-entries.js';
import { ConfinedFolder, NotRegularFile } from '../paths.js';
import { directoryQuery, forbidden, pathErrors, type RouteContext } from './common.js';

/** PREFIX/directory/list (names, oldest first) and PREFIX/entries (ours: type, size, date), within the download paths. */
export function listRoutes({ prefix, options }: RouteContext): RoutesPlugin {
  const { root, switches, transfers } = options;
  const { rules } = transfers;
  return async (app) => {
    /** Whether an entry of a listed folder is shown: with download paths, only what leads to or lies in them. */
    const shown = (folder: string, name: string, isFolder: boolean) => {
      const path = folder ? `${folder}/${name}` : name;
      return isFolder ? rules.folderVisible('download', path) : rules.refusesPath('download', path) === undefined;
    };
    const inFolder = async <T>(
      directory: string,
      read: (folder: ConfinedFolder, shows: (name: string, isFolder: boolean) => boolean) => Promise<T>,
    ): Promise<T> => {
      if (!switches.list) throw forbidden();
      const real = await root.existing(directory).catch(pathErrors());
      const relative = root.relative(real);
      if (!rules.folderVisible('download', relative)) {
        throw FILE_ERRORS.TRANSFER_REFUSED(`list of ${relative || '~'} refused: download.paths does not include it`);
      }
      const folder = await ConfinedFolder.open(root.real, real).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOTDIR' || err instanceof NotRegularFile) throw FILE_ERRORS.NOT_A_DIRECTORY();
        return pathErrors()(err);
      });
      try {
        return await read(folder, (name, isFolder) => shown(relative, name, isFolder));
      } finally {
        await folder.close();
      }
    };
    for (const listPath of [`${prefix}/directory/list`, `${prefix}/directory/list/`]) {
      app.get(
        listPath,
        { schema: { querystring: directoryQuery, response: replies({ type: 'array', items: { type: 'string' } }, { validated: true }) } },
        async (request) => inFolder(request.query.directory, listByAge),
      );
    }
    // ours (the file panel's): each entry with its type, size and date
    app.get(
      `${prefix}/entries`,
      { schema: { querystring: directoryQuery, response: replies(dataReply({ type: 'array', items: entryReply }), { validated: true }) } },
      async (request) => ({ code: 200, data: await inFolder(request.query.directory, entriesOf) }),
    );
  };
}
