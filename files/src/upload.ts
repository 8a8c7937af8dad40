import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import { LargeWriteFile } from './large-writes.js';
import { commitFile, assertRoomFor, tempName, type PartialUploads } from './store.js';
import type { ConfinedFolder, FileRoot } from './paths.js';
import { TransferGate } from './transfer-gate.js';
import type { TransferRules } from '@desktop-agents/kit';

export interface UploadResult {
  path: string;
  bytes: number;
  /** The type sniffed from the content. */
  type?: string;
}

/** The transfer rules uploads pass, and where a file sent without a folder lands (home-relative, '' for home). */
export interface UploadPlacement {
  rules: TransferRules;
  uploadDir: string;
}

/** A name without a folder lands in the upload folder; `~/name` and `folder/name` are where they say. */
export function placed(name: string, uploadDir: string): string {
  return name.includes('/') || uploadDir === '' ? name : `${uploadDir}/${name}`;
}

/** What an upload is made of, whatever carries it: the multipart parts, the size announced, the overwrite flag. */
export interface UploadInput {
  parts: AsyncIterable<Multipart>;
  /** Bytes the sender announced (0 = unknown): refused at once when they do not fit. */
  declaredBytes: number;
  overwrite: boolean;
}

/** The upload has no part named `file`. */
export class NoFilePart extends Error {
  override name = 'NoFilePart';
}

/**
 * Streams one part to a temp file in large writes (never holding it all), through the transfer rules' gate when
 * there are rules; the caller fsyncs and renames or removes it.
 */
async function receive(file: MultipartFile, temp: string, gate?: TransferGate): Promise<number> {
  if (gate) await pipeline(file.file, gate, new LargeWriteFile(temp));
  else await pipeline(file.file, new LargeWriteFile(temp));
  return (await stat(temp)).size;
}

/**
 * abcdesktop's multipart upload: part `file`, optional field `fullPath` (home-relative or `~/...`, default the
 * file's name), optional `overwrite=true`. The part streams to a temp file beside its target (or in the root when
 * `fullPath` comes after the file), is fsynced and renamed; a cut or an error leaves nothing behind. Folders are
 * opened and checked on their descriptors, and every write goes through them (see ConfinedFolder).
 */
export async function receiveUpload(upload: UploadInput, root: FileRoot, partials?: PartialUploads, placement?: UploadPlacement): Promise<UploadResult> {
  if (upload.declaredBytes > 0) await assertRoomFor(root.real, upload.declaredBytes);
  const fields: Record<string, string> = {};
  // the path rule is checked on where the file really goes (after ~ and the upload folder are resolved)
  const target = async (name: string) => {
    const real = await root.forWrite(placed(name, placement?.uploadDir ?? ''));
    placement?.rules.check('upload', root.relative(real), { path: root.relative(real) });
    return real;
  };
  const openFolder = (folder: string) => root.makeFolder(folder);
  const folders: ConfinedFolder[] = [];
  let received: { folder: ConfinedFolder; temp: string; bytes: number; filename: string; target: string | undefined; type?: string } | undefined;
  let pending: { folder: ConfinedFolder; temp: string } | undefined;
  try {
    for await (const part of upload.parts) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname !== 'file' || received) {
        part.file.resume();
        continue;
      }
      const early = fields['fullPath'] ? await target(fields['fullPath']) : undefined;
      const folder = await openFolder(early ? dirname(early) : root.real);
      folders.push(folder);
      const temp = tempName();
      pending = { folder, temp };
      await partials?.begin(join(folder.real, temp));
      const gate = placement ? new TransferGate(placement.rules, 'upload', early ? root.relative(early) : part.filename) : undefined;
      const bytes = await receive(part, folder.at(temp), gate);
      received = { folder, temp, bytes, filename: part.filename, target: early, ...(gate?.facts.type ? { type: gate.facts.type } : {}) };
    }
    if (!received) throw new NoFilePart('no part named file');
    const destination = received.target ?? (await target(fields['fullPath'] || received.filename));
    const folder = dirname(destination) === received.folder.real ? received.folder : await openFolder(dirname(destination));
    if (folder !== received.folder) folders.push(folder);
    const overwrite = fields['overwrite'] === 'true' || upload.overwrite;
    const final = await commitFile(received.folder.at(received.temp), folder, basename(destination), overwrite);
    await partials?.end(join(received.folder.real, received.temp));
    pending = undefined;
    return { path: root.relative(final), bytes: received.bytes, ...(received.type ? { type: received.type } : {}) };
  } finally {
    if (pending) {
      await rm(pending.folder.at(pending.temp), { force: true });
      await partials?.end(join(pending.folder.real, pending.temp));
    }
    await Promise.all(folders.map((f) => f.close()));
  }
}
