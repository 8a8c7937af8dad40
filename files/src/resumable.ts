import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, statfs, truncate, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TusServer, Upload } from '@tus/server';
import type { Logger } from 'pino';
import { commitFile } from './store.js';
import { placed } from './upload.js';
import { TransferGate } from './transfer-gate.js';
import { headOf } from './screen.js';
import { SNIFF_BYTES, sniffType } from '@desktop-agents/kit';
import { TransferRefused, type TransferRules } from '@desktop-agents/kit';
import type { TransferAudit } from '@desktop-agents/kit';
import { isInside, PathOutsideRoot, type FileRoot } from './paths.js';

export interface ResumableOptions {
  /** URL path the tus endpoint answers on. */
  path: string;
  /** Where partial uploads live until complete: outside the served tree (see ensurePrivateFolder). */
  stagingDir: string;
  maxSize: number;
  /** A partial upload untouched for this long is deleted and can no longer be resumed. */
  ttlMs: number;
  log: Logger;
  /** TRANSFER_POLICY's upload rules and the audit trail; where a file sent without a folder lands. */
  transfers?: { rules: TransferRules; audit: TransferAudit; uploadDir: string };
}

/** The header the file routes set (after removing any sent) to tell the tus hooks who is calling, for the audit. */
export const CALLER_HEADER = 'x-desktop-agents-caller';

function callerFrom(req: Request): { client?: string; user?: string } {
  try {
    return JSON.parse(req.headers.get(CALLER_HEADER) ?? '{}') as { client?: string; user?: string };
  } catch {
    return {};
  }
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
  if (isInside(root.real, resolve(options.stagingDir)) || isInside(root.configured, resolve(options.stagingDir))) {
    throw new Error(`the upload staging folder ${options.stagingDir} is inside the served folder ${root.real}: set it outside (FILER_STAGING_DIR)`);
  }
  await ensurePrivateFolder(options.stagingDir);
  // the tus server is loaded on the first resumable request: an agent that never gets one does not carry it (a
  // failed load is not kept: the next request tries again)
  let server: Promise<TusServer> | undefined;
  const load = () => {
    server ??= tusServer(root, options).catch((err: unknown) => {
      server = undefined;
      throw err;
    });
    return server;
  };
  const expire = () =>
    void removeStale(options.stagingDir, options.ttlMs).then(
      (n) => n > 0 && options.log.info({ removed: n }, 'expired partial uploads removed'),
      (err: Error) => options.log.warn({ err: { message: err.message } }, 'partial upload expiry failed'),
    );
  expire();
  const timer = setInterval(expire, Math.min(options.ttlMs, 3600_000));
  timer.unref();
  return {
    handle: async (req, res) => (await load()).handle(req, res),
    close: () => clearInterval(timer),
  };
}

/** The part of the tus server the routes use. */
export interface ResumableUploads {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Stops the expiry timer. */
  close(): void;
}

/** Why a folder on the way to the staging folder is not safe, or undefined. */
function unsafeComponent(path: string, s: Stats, uid: number | undefined, last: boolean): string | undefined {
  if (s.isSymbolicLink()) return `${path} is a symlink`;
  if (!s.isDirectory()) return `${path} is not a folder`;
  const { mode, uid: owner } = s;
  if (last) {
    if (uid !== undefined && owner !== uid) return `${path} is not this user's`;
    if ((mode & 0o077) !== 0) return `${path} is open to others (mode ${(mode & 0o777).toString(8)}; 0700 needed)`;
    return undefined;
  }
  if (uid !== undefined && owner !== uid && owner !== 0) return `${path} belongs to another user (${owner})`;
  // a folder others may write to is safe on the way only when it is root's and sticky (/tmp, /var/tmp): there no one
  // can move or replace what this user made in it
  if ((mode & 0o022) !== 0 && !(owner === 0 && (mode & 0o1000) !== 0)) return `${path} is writable by others`;
  return undefined;
}

/**
 * Makes (or checks) the staging folder so that nobody else can prepare or replace any part of it: every folder on
 * its path is a real folder (no symlink) of root's or this user's, writable by others only when root's and sticky;
 * the folders this user's part of the path needs are made one by one, exclusively (never into one someone else made),
 * and the last is this user's with mode 0700. Refuses otherwise, naming the folder, since whoever can write there can
 * forge the agent's own bookkeeping or swap a file on its way into home. Checked again before each use.
 */
export async function ensurePrivateFolder(folder: string): Promise<void> {
  const uid = process.getuid?.();
  const absolute = resolve(folder);
  const { root } = parse(absolute);
  const parts = absolute.slice(root.length).split(sep).filter(Boolean);
  let path = root;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const last = i === parts.length - 1;
    let s = await lstat(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (!s) {
      await mkdir(path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
      s = await lstat(path);
    }
    const problem = unsafeComponent(path, s, uid, last);
    if (problem) throw new Error(`upload staging ${absolute} is not private: ${problem}`);
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
    const upload = await readRecord(stagingDir, name, log);
    if (!upload || upload.metadata?.[COMMITTED] === 'true' || upload.size === undefined) continue;
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

/** The shape of a tus record this agent wrote: an id that names its data file beside it, a size, string metadata. */
function isRecord(value: unknown, name: string): value is Upload {
  if (value === null || typeof value !== 'object') return false;
  const { id, size, offset, metadata } = value as Record<string, unknown>;
  return (
    typeof id === 'string' &&
    /^[\w-]+$/.test(id) &&
    `${id}.json` === name &&
    (size === undefined || (Number.isSafeInteger(size) && (size as number) >= 0)) &&
    (offset === undefined || (Number.isSafeInteger(offset) && (offset as number) >= 0)) &&
    (metadata === undefined || (metadata !== null && typeof metadata === 'object' && Object.values(metadata).every((v) => typeof v === 'string' || v === null)))
  );
}

/**
 * A record read and checked; one that is truncated, forged or not ours is set aside (renamed `.bad`, kept for a look)
 * with a log line, never trusted and never fatal to the others.
 */
async function readRecord(stagingDir: string, name: string, log: Logger): Promise<Upload | undefined> {
  const path = join(stagingDir, name);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    value = undefined;
  }
  if (isRecord(value, name)) return value;
  await rename(path, `${path}.bad`).catch(() => rm(path, { force: true }));
  log.warn({ record: name }, 'an upload record that is not valid was set aside');
  return undefined;
}

/** The first bytes of a partial upload already stored (a resumed upload's head, sniffed with what comes next). */
async function storedHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return await headOf(handle);
  } finally {
    await handle.close();
  }
}

async function tusServer(root: FileRoot, options: ResumableOptions): Promise<TusServer> {
  const [{ Server }, { FileStore }] = await Promise.all([import('@tus/server'), import('@tus/file-store')]);
  const { transfers } = options;
  const targetOf = async (upload: Upload) => {
    const name = upload.metadata?.['fullPath'] || upload.metadata?.['filename'];
    if (!name) throw new TusError(422, 'No fullPath or filename in Upload-Metadata');
    try {
      return await root.forWrite(placed(name, transfers?.uploadDir ?? ''));
    } catch (err) {
      if (err instanceof PathOutsideRoot) throw new TusError(403, 'Forbidden bad path');
      throw err;
    }
  };
  /** Every PATCH through the upload rules: the first bytes sniffed (with any already stored), every byte counted. */
  class GatedFileStore extends FileStore {
    override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
      if (!transfers) return super.write(readable, id, offset);
      const upload = await this.getUpload(id);
      const subject = root.relative(await targetOf(upload));
      const head = offset > 0 && offset < SNIFF_BYTES ? (await storedHead(join(options.stagingDir, id))).subarray(0, offset) : undefined;
      const gate = new TransferGate(transfers.rules, 'upload', subject, { ...(head ? { head } : {}), offset });
      readable.once('error', (err) => gate.destroy(err));
      try {
        return await super.write(readable.pipe(gate), id, offset);
      } catch (err) {
        const refusal = err instanceof TransferRefused ? err : gate.errored instanceof TransferRefused ? gate.errored : undefined;
        if (!refusal) throw err;
        // nothing more is written, and what was is removed: the upload is gone
        await this.remove(id).catch(() => undefined);
        transfers.audit.refused({ direction: 'upload', subject, ...refusal.facts }, refusal);
        throw new TusError(403, refusal.message);
      }
    }
  }
  const datastore = new GatedFileStore({ directory: options.stagingDir, expirationPeriodInMilliseconds: options.ttlMs });
  /** Moves a complete upload into home, and leaves it answering "complete" to a client that asks again. */
  const commit = async (upload: Upload): Promise<string> => {
    const target = await targetOf(upload);
    // what is moved into home comes from a staging folder still nobody else's
    await ensurePrivateFolder(options.stagingDir);
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
    // refused before a byte is stored: a bad target, staging that is no longer private, a size the disk cannot hold
    onUploadCreate: async (req, upload) => {
      const target = await targetOf(upload);
      if (transfers) {
        const subject = root.relative(target);
        try {
          transfers.rules.check('upload', subject, { path: subject, ...(upload.size !== undefined ? { bytes: upload.size } : {}) });
        } catch (err) {
          if (!(err instanceof TransferRefused)) throw err;
          transfers.audit.refused({ direction: 'upload', subject, ...callerFrom(req), ...err.facts }, err);
          throw new TusError(403, err.message);
        }
      }
      await ensurePrivateFolder(options.stagingDir).catch((err: Error) => {
        options.log.error({ err: { message: err.message } }, 'upload staging is not private: resumable uploads refused');
        throw new TusError(503, 'Upload staging is not usable');
      });
      if (upload.size !== undefined) {
        const disk = await statfs(options.stagingDir);
        if (upload.size > disk.bavail * disk.bsize) throw new TusError(507, 'Insufficient storage: the file does not fit on the disk');
      }
      return {};
    },
    onUploadFinish: async (req, upload) => {
      const type = transfers ? await sniffType(await storedHead(upload.storage?.path ?? join(options.stagingDir, upload.id))) : undefined;
      const final = await commit(upload);
      transfers?.audit.allowed({
        direction: 'upload',
        subject: root.relative(final),
        ...callerFrom(req),
        ...(type ? { type } : {}),
        ...(upload.size !== undefined ? { bytes: upload.size } : {}),
      });
      options.log.info({ path: root.relative(final), bytes: upload.size }, 'resumable upload complete');
      return { headers: { 'upload-path': encodeURIComponent(root.relative(final)) } };
    },
  });
}
