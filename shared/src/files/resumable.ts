import { lstat, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TusServer, Upload } from '@tus/server';
import type { Logger } from 'pino';
import { commitFile } from './store.js';
import { PathOutsideRoot, type FileRoot } from './paths.js';

export interface ResumableOptions {
  /** URL path the tus endpoint answers on. */
  path: string;
  /** Where partial uploads live until complete: outside the served tree (see ensurePrivateFolder). */
  stagingDir: string;
  maxSize: number;
  /** A partial upload untouched for this long is deleted and can no longer be resumed. */
  ttlMs: number;
  log: Logger;
}

class TusError extends Error {
  constructor(
    readonly status_code: number,
    readonly body: string,
  ) {
    super(body);
  }
}

/**
 * Resumable uploads (tus 1.0 via @tus/server): a browser creates an upload with metadata `fullPath` (or
 * `filename`), sends it in PATCHes, and after a cut asks for the offset (HEAD) and sends the rest. When the last
 * byte arrives the file is confined, fsynced and renamed into place like a multipart upload.
 */
export async function createResumableUploads(root: FileRoot, options: ResumableOptions): Promise<ResumableUploads> {
  await ensurePrivateFolder(options.stagingDir);
  // the tus server is loaded on the first resumable request: an agent that never gets one does not carry it
  let server: Promise<TusServer> | undefined;
  const expire = () =>
    void removeStale(options.stagingDir, options.ttlMs).then(
      (n) => n > 0 && options.log.info({ removed: n }, 'expired partial uploads removed'),
      (err: Error) => options.log.warn({ err: { message: err.message } }, 'partial upload expiry failed'),
    );
  expire();
  const timer = setInterval(expire, Math.min(options.ttlMs, 3600_000));
  timer.unref();
  return {
    handle: async (req, res) => (await (server ??= tusServer(root, options))).handle(req, res),
    close: () => clearInterval(timer),
  };
}

/** The part of the tus server the routes use. */
export interface ResumableUploads {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Stops the expiry timer. */
  close(): void;
}

/**
 * Makes (or checks) a folder only this process's user can use: a real folder, not a symlink, owned by us, mode 0700.
 * Refuses otherwise, since whoever can write there can forge the agent's own bookkeeping.
 */
export async function ensurePrivateFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const s = await lstat(folder);
  const uid = process.getuid?.();
  if (!s.isDirectory() || (uid !== undefined && s.uid !== uid) || (s.mode & 0o077) !== 0) {
    throw new Error(`${folder} must be a folder of this user's with mode 0700`);
  }
}

/** Deletes the partial uploads (data and tus metadata) last touched more than ttlMs ago. Returns how many entries. */
async function removeStale(folder: string, ttlMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(folder)) {
    const path = join(folder, name);
    const s = await lstat(path).catch(() => undefined);
    if (s?.isFile() && now - s.mtimeMs > ttlMs) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}

const COMMITTED = 'desktop-agents-committed';

/**
 * Uploads whose last byte arrived but that were never moved into home (the agent stopped between the two): moved
 * now, before the first request after a restart is answered. A client then hears "complete" and home has the file.
 */
async function commitReceived(stagingDir: string, commit: (upload: Upload) => Promise<string>, log: Logger): Promise<void> {
  for (const name of await readdir(stagingDir)) {
    if (!name.endsWith('.json')) continue;
    const upload = JSON.parse(await readFile(join(stagingDir, name), 'utf8').catch(() => '{}')) as Upload;
    if (!upload.id || upload.metadata?.[COMMITTED] === 'true' || upload.size === undefined) continue;
    const data = await lstat(join(stagingDir, upload.id)).catch(() => undefined);
    if (!data?.isFile() || data.size !== upload.size) continue;
    try {
      const final = await commit(upload);
      log.info({ id: upload.id, bytes: upload.size, final }, 'received upload committed after a restart');
    } catch (err) {
      log.warn({ id: upload.id, err: { message: (err as Error).message } }, 'received upload not committed');
    }
  }
}

async function tusServer(root: FileRoot, options: ResumableOptions): Promise<TusServer> {
  const [{ Server }, { FileStore }] = await Promise.all([import('@tus/server'), import('@tus/file-store')]);
  const datastore = new FileStore({ directory: options.stagingDir, expirationPeriodInMilliseconds: options.ttlMs });
  const targetOf = async (upload: Upload) => {
    const name = upload.metadata?.['fullPath'] || upload.metadata?.['filename'];
    if (!name) throw new TusError(422, 'No fullPath or filename in Upload-Metadata');
    try {
      return await root.forWrite(name);
    } catch (err) {
      if (err instanceof PathOutsideRoot) throw new TusError(403, 'Forbidden bad path');
      throw err;
    }
  };
  /** Moves a complete upload into home, and leaves it answering "complete" to a client that asks again. */
  const commit = async (upload: Upload): Promise<string> => {
    const target = await targetOf(upload);
    const stored = upload.storage?.path ?? join(options.stagingDir, upload.id);
    const folder = await root.makeFolder(dirname(target)).catch((err: unknown) => {
      throw err instanceof PathOutsideRoot ? new TusError(403, 'Forbidden bad path') : err;
    });
    let final: string;
    try {
      final = await commitFile(stored, folder, basename(target), upload.metadata?.['overwrite'] === 'true');
    } finally {
      await folder.close();
    }
    // a client whose last reply was lost (the agent stopped right then) asks for the offset: a sparse file of the
    // upload's size (no blocks) answers "complete" until the upload expires, instead of a 404 that makes it send all
    // again as a second file
    await writeFile(stored, '');
    await truncate(stored, upload.size ?? 0);
    upload.metadata = { ...upload.metadata, [COMMITTED]: 'true' };
    await datastore.configstore.set(upload.id, upload);
    return final;
  };
  await commitReceived(options.stagingDir, commit, options.log);
  return new Server({
    path: options.path,
    datastore,
    maxSize: options.maxSize,
    respectForwardedHeaders: false,
    // refused before a byte is stored
    onUploadCreate: async (_req, upload) => {
      await targetOf(upload);
      return {};
    },
    onUploadFinish: async (_req, upload) => {
      const final = await commit(upload);
      options.log.info({ path: root.relative(final), bytes: upload.size }, 'resumable upload complete');
      return { headers: { 'upload-path': encodeURIComponent(root.relative(final)) } };
    },
  });
}
