import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { HttpError, ValidationError } from '../errors.js';
import { commitFile, InsufficientStorage, assertRoomFor, tempPathIn, type PartialUploads } from './store.js';
import { PathOutsideRoot, type FileRoot } from './paths.js';

export interface UploadResult {
  path: string;
  bytes: number;
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE';
}

function isNoSpace(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT' || err instanceof InsufficientStorage;
}

/** Streams one part to a temp file (never holding it in memory); the caller fsyncs and renames or removes it. */
async function receive(file: MultipartFile, temp: string): Promise<number> {
  await pipeline(file.file, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
  return (await stat(temp)).size;
}

/**
 * abcdesktop's multipart upload: part `file`, optional field `fullPath` (home-relative or `~/...`, default the
 * file's name), optional `overwrite=true`. The part streams to a temp file beside its target (or in the root when
 * `fullPath` comes after the file), is fsynced and renamed; a cut or an error leaves nothing behind.
 */
export async function receiveUpload(request: FastifyRequest, root: FileRoot, partials?: PartialUploads): Promise<UploadResult> {
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > 0) {
    try {
      await assertRoomFor(root.real, length);
    } catch (err) {
      if (err instanceof InsufficientStorage) throw new HttpError(507, 'Insufficient storage: the file does not fit on the disk');
      throw err;
    }
  }
  const fields: Record<string, string> = {};
  let received: { temp: string; bytes: number; filename: string; target: string | undefined } | undefined;
  const target = async (name: string) => {
    try {
      return await root.forWrite(name);
    } catch (err) {
      if (err instanceof PathOutsideRoot) throw new HttpError(403, 'Forbidden bad path');
      throw err;
    }
  };
  let temp: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname !== 'file' || received) {
        part.file.resume();
        continue;
      }
      const early = fields['fullPath'] ? await target(fields['fullPath']) : undefined;
      temp = tempPathIn(early ? dirname(early) : root.real);
      if (early) await mkdir(dirname(early), { recursive: true });
      await partials?.begin(temp);
      const bytes = await receive(part, temp);
      received = { temp, bytes, filename: part.filename, target: early };
    }
    if (!received) throw new ValidationError([{ location: 'request', param: 'file', msg: 'No file provided' }]);
    const destination = received.target ?? (await target(fields['fullPath'] || received.filename));
    const final = await commitFile(received.temp, destination, fields['overwrite'] === 'true' || (request.query as Record<string, unknown>)['overwrite'] === 'true');
    await partials?.end(received.temp);
    temp = undefined;
    return { path: root.relative(final), bytes: received.bytes };
  } catch (err) {
    if (isTooLarge(err)) throw new HttpError(413, 'File too large: over the upload size limit');
    if (isNoSpace(err)) throw new HttpError(507, 'Insufficient storage: the disk is full');
    throw err;
  } finally {
    if (temp) {
      await rm(temp, { force: true });
      await partials?.end(temp);
    }
  }
}
