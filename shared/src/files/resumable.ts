import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TusServer, Upload } from '@tus/server';
import type { Logger } from 'pino';
import { commitFile } from './store.js';
import { PathOutsideRoot, type FileRoot } from './paths.js';

export interface ResumableOptions {
  /** URL path the tus endpoint answers on. */
  path: string;
  /** Where partial uploads live until complete (inside the root's filesystem, so the final move is a rename). */
  stagingDir: string;
  maxSize: number;
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
  await mkdir(options.stagingDir, { recursive: true, mode: 0o700 });
  // the tus server is loaded on the first resumable request: an agent that never gets one does not carry it
  let server: Promise<TusServer> | undefined;
  return {
    handle: async (req, res) => (await (server ??= tusServer(root, options))).handle(req, res),
  };
}

/** The part of the tus server the routes use. */
export interface ResumableUploads {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

async function tusServer(root: FileRoot, options: ResumableOptions): Promise<TusServer> {
  const [{ Server }, { FileStore }] = await Promise.all([import('@tus/server'), import('@tus/file-store')]);
  const datastore = new FileStore({ directory: options.stagingDir });
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
      const final = await commitFile(stored, target, upload.metadata?.['overwrite'] === 'true');
      await datastore.configstore.delete(upload.id);
      options.log.info({ path: root.relative(final), bytes: upload.size }, 'resumable upload complete');
      return { headers: { 'upload-path': encodeURIComponent(root.relative(final)) } };
    },
  });
}

