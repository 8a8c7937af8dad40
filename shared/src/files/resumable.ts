import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
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
      const target = await targetOf(upload);
      const stored = upload.storage?.path ?? `${options.stagingDir}/${upload.id}`;
      const folder = await root.makeFolder(dirname(target)).catch((err: unknown) => {
        throw err instanceof PathOutsideRoot ? new TusError(403, 'Forbidden bad path') : err;
      });
      let final: string;
      try {
        final = await commitFile(stored, folder, basename(target), upload.metadata?.['overwrite'] === 'true');
      } finally {
        await folder.close();
      }
      await datastore.configstore.delete(upload.id);
      options.log.info({ path: root.relative(final), bytes: upload.size }, 'resumable upload complete');
      return { headers: { 'upload-path': encodeURIComponent(root.relative(final)) } };
    },
  });
}
