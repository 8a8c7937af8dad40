import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CALLER_HEADER, type ResumableUploads } from './resumable.js';
import { FILE_ERRORS, fileErrorToHttp } from './errors.js';
import { sendFile, sendFolderZip } from './download.js';
import { ConfinedFolder, NotRegularFile, withFolder, type FileRoot, type OpenedEntry } from './paths.js';
import type { FileSwitches } from './switches.js';
import { receiveUpload } from './upload.js';
import type { PartialUploads } from './store.js';
import { dataReply, okReply, replies, textReply } from '../replies.js';
import type { FastifyPluginAsyncTypebox as RoutesPlugin } from '@fastify/type-provider-typebox';
import { callerOf, type TransferAudit } from '../transfer-audit.js';
import { TransferRefused, type TransferRules } from '../transfer-policy.js';
import { screenDownload } from './screen.js';

export interface FileRoutesOptions {
  root: FileRoot;
  switches: FileSwitches;
  maxUploadBytes: number;
  /** Mounted at `<first prefix>/uploads` when given (its `path` must be that). */
  resumable?: ResumableUploads;
  /** abcdesktop serves the same routes under both. */
  prefixes?: string[];
  /** Records temp files so a restart after a crash removes them. */
  partials?: PartialUploads;
  /** Prefix of the metrics these routes report (`filer` → filer_uploads_total...). */
  metricsPrefix: string;
  /** TRANSFER_POLICY's rules, the audit trail, and where uploads without a folder land (home-relative, '' = home). */
  transfers: FileTransfers;
}

export interface FileTransfers {
  rules: TransferRules;
  audit: TransferAudit;
  uploadDir: string;
}

/** What the routes have moved since start, for /metrics. */
class FileStats {
  bytesReceived = 0;
  downloads = 0;
  /** Transfers under way now, by kind. */
  readonly inFlight = { upload: 0, download: 0 };
  readonly uploads = new Map<string, number>();

  upload(result: string, bytes = 0): void {
    this.uploads.set(result, (this.uploads.get(result) ?? 0) + 1);
    this.bytesReceived += bytes;
  }
}

/** An upload's outcome as a metric label, from what the route answered. */
function resultOf(err: unknown): string {
  const status = (err as { statusCode?: number }).statusCode;
  return status === 413 ? 'too_large' : status === 507 ? 'no_space' : status === 403 ? 'refused' : status === 422 ? 'invalid' : 'failed';
}

const pathField = (name: 'file' | 'directory') =>
  ({
    type: 'string',
    minLength: 1,
    messages: { required: `No ${name} provided`, type: `${name} must be a string`, minLength: `${name} must not be empty` },
  }) as const;

const fileQuery = { type: 'object', required: ['file'], properties: { file: pathField('file') } } as const;
const directoryQuery = { type: 'object', required: ['directory'], properties: { directory: pathField('directory') } } as const;
const deleteBody = {
  type: 'object',
  required: ['file'],
  properties: { file: pathField('file'), recursive: { type: 'boolean', messages: { type: 'recursive must be a boolean' } } },
} as const;

const forbidden = FILE_ERRORS.SWITCHED_OFF;

/** The kit's path errors as the spec's statuses (fileErrorToHttp) for a read, list or delete. */
function pathErrors(notFound = 'Not found') {
  return (err: unknown): never => {
    throw fileErrorToHttp(err, 'read', notFound);
  };
}

/** Names in a folder, oldest modification first; entries that cannot be looked at are left out. */
async function listByAge(folder: ConfinedFolder, shows: (name: string, isFolder: boolean) => boolean = () => true): Promise<string[]> {
  const names = await readdir(folder.at());
  const dated = await Promise.all(
    names.map(async (name) => {
      try {
        const s = await lstat(folder.at(name));
        if (!shows(name, s.isDirectory())) return undefined;
        return { name, mtime: s.mtimeMs };
      } catch {
        return undefined;
      }
    }),
  );
  return dated
    .filter((d): d is { name: string; mtime: number } => d !== undefined)
    .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name))
    .map((d) => d.name);
}

/** One entry of a folder as the file panel shows it. */
export interface FolderEntry {
  name: string;
  type: 'file' | 'folder' | 'link' | 'other';
  size: number;
  /** Last modification, ms since the epoch. */
  mtime: number;
}

/** A folder's entries with their type, size and date (not following links), by name; unreadable ones left out. */
async function entriesOf(folder: ConfinedFolder, shows: (name: string, isFolder: boolean) => boolean = () => true): Promise<FolderEntry[]> {
  const names = await readdir(folder.at());
  const entries = await Promise.all(
    names.map(async (name): Promise<FolderEntry | undefined> => {
      try {
        const s = await lstat(folder.at(name));
        if (!shows(name, s.isDirectory())) return undefined;
        const type = s.isFile() ? 'file' : s.isDirectory() ? 'folder' : s.isSymbolicLink() ? 'link' : 'other';
        return { name, type, size: s.isFile() ? s.size : 0, mtime: Math.round(s.mtimeMs) };
      } catch {
        return undefined;
      }
    }),
  );
  return entries.filter((e): e is FolderEntry => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

const entryReply = {
  type: 'object',
  required: ['name', 'type', 'size', 'mtime'],
  properties: { name: { type: 'string' }, type: { type: 'string' }, size: { type: 'number' }, mtime: { type: 'number' } },
} as const;

function routesAt(prefix: string, options: FileRoutesOptions, resumable: ResumableUploads | undefined, stats: FileStats): RoutesPlugin {
  const { root, switches, transfers } = options;
  const { rules, audit } = transfers;
  return async (app) => {
    app.get(prefix, { schema: { querystring: fileQuery, response: replies(textReply, { validated: true }) } }, async (request, reply) => {
      if (!switches.download) throw forbidden();
      // opened first, then checked on the descriptor: what is served is what was checked (FIFOs refused unopened)
      const opened = await root.openExisting(request.query.file).catch(pathErrors());
      const caller = callerOf(request);
      const subject = root.relative(opened.real) || '~';
      if (opened.stat.isFile()) {
        // decided on what was opened: its path, its size and the type of its first bytes
        await audit
          .around(
            { direction: 'download', subject, ...caller, bytes: opened.stat.size },
            async () => ({ type: await screenDownload(rules, subject, opened) }),
            (r) => r,
          )
          .catch(async (err: unknown) => {
            await opened.handle.close();
            throw fileErrorToHttp(err, 'read');
          });
      }
      stats.downloads += 1;
      stats.inFlight.download += 1;
      reply.raw.once('close', () => (stats.inFlight.download -= 1));
      if (opened.stat.isFile()) return sendFile(request, reply, opened);
      await opened.handle.close();
      // a folder's zip: each file screened on its own; a refused one is left out and listed in REFUSED.txt
      const screen = rules.restricts('download')
        ? async (entry: OpenedEntry) => {
            const path = root.relative(entry.real);
            try {
              await screenDownload(rules, path, entry);
              return undefined;
            } catch (err) {
              if (!(err instanceof TransferRefused)) throw err;
              audit.refused({ direction: 'download', subject: path, ...caller, ...err.facts }, err);
              return err.rule;
            }
          }
        : undefined;
      audit.allowed({ direction: 'download', subject: `${subject} (zip)`, type: 'application/zip', ...caller });
      return sendFolderZip(reply, root.real, opened.real, screen);
    });

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

    app.post(prefix, { schema: { response: replies(okReply, { validated: true }) } }, async (request, reply) => {
      if (!switches.upload) throw forbidden();
      const input = {
        parts: request.parts(),
        declaredBytes: Number(request.headers['content-length'] ?? 0),
        overwrite: (request.query as Record<string, unknown>)['overwrite'] === 'true',
      };
      stats.inFlight.upload += 1;
      const caller = callerOf(request);
      const result = await audit
        .around(
          { direction: 'upload', subject: '(multipart)', ...caller },
          () => receiveUpload(input, root, options.partials, transfers),
          (r) => ({ subject: r.path, bytes: r.bytes, ...(r.type ? { type: r.type } : {}) }),
        )
        .catch((err: unknown) => {
          const mapped = fileErrorToHttp(err, 'upload');
          stats.upload(resultOf(mapped));
          throw mapped;
        })
        .finally(() => (stats.inFlight.upload -= 1));
      stats.upload('ok', result.bytes);
      request.log.info({ path: result.path, bytes: result.bytes }, 'file uploaded');
      // the body is exactly the original's; the name the file got (after a collision) is in Location
      reply.header('location', `${prefix}?file=${encodeURIComponent(`~/${result.path}`)}`);
      return { code: 200, data: 'ok' };
    });

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

    if (resumable) {
      const handle = async (request: FastifyRequest, reply: FastifyReply) => {
        if (!switches.upload) throw forbidden();
        // who is calling, for the audit trail of the tus hooks (a header of the caller's own by that name is dropped)
        request.raw.headers[CALLER_HEADER] = JSON.stringify(callerOf(request));
        reply.hijack();
        const sending = request.method === 'PATCH';
        if (sending) stats.inFlight.upload += 1;
        try {
          await resumable.handle(request.raw, reply.raw);
        } finally {
          if (sending) stats.inFlight.upload -= 1;
        }
      };
      // tus 1.0: its own protocol (headers, 201/204), described by its specification rather than here
      app.all(`${prefix}/uploads`, { schema: { hide: true } }, handle);
      app.all(`${prefix}/uploads/*`, { schema: { hide: true } }, handle);
    }
  };
}

/**
 * abcdesktop's file service routes (download, zip of a folder, list, upload, delete) plus resumable uploads,
 * confined to one root, under every prefix.
 */
export function fileRoutes(options: FileRoutesOptions): RoutesPlugin {
  return async (app: FastifyInstance) => {
    await app.register(multipart, {
      limits: { fileSize: options.maxUploadBytes, files: 1, fields: 16, fieldSize: 64 * 1024, parts: 32 },
      throwFileSizeLimit: true,
    });
    // tus PATCH bodies are streamed by the tus server itself; any other type is left unread for the upload route
    // to answer (a POST that is not multipart is the spec's 422 "No file provided", not a 415)
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const prefixes = options.prefixes ?? ['/filer', '/printerfiler'];
    const stats = new FileStats();
    for (const [i, prefix] of prefixes.entries()) await app.register(routesAt(prefix, options, i === 0 ? options.resumable : undefined, stats));
    const name = options.metricsPrefix;
    app.metrics.define({
      name: `${name}_bytes_received_total`,
      help: 'bytes of completed multipart uploads',
      type: 'counter',
      read: () => stats.bytesReceived,
    });
    app.metrics.define({
      name: `${name}_transfers_in_flight`,
      help: 'uploads (multipart, and resumable parts) and downloads under way',
      type: 'gauge',
      labelNames: ['kind'],
      read: () => Object.entries(stats.inFlight).map(([kind, value]) => ({ labels: { kind }, value })),
    });
    app.metrics.define({ name: `${name}_downloads_total`, help: 'downloads (files and folder zips) started', type: 'counter', read: () => stats.downloads });
    app.metrics.define({
      name: `${name}_uploads_total`,
      help: 'multipart uploads by result',
      type: 'counter',
      labelNames: ['result'],
      read: () => [...stats.uploads].map(([result, value]) => ({ labels: { result }, value })),
    });
  };
}

/** The file service's 404 text: `Can not METHOD PATH`, PATH relative to the mount (`GET /filer/x` → `Can not GET /x`). */
export function fileNotFoundMessage(prefixes: string[]): (method: string, path: string) => string {
  return (method, path) => {
    const mount = prefixes.find((p) => path === p || path.startsWith(`${p}/`));
    return `Can not ${method} ${mount ? path.slice(mount.length) || '/' : path}`;
  };
}
