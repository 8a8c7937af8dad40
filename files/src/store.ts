import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { isInside, type ConfinedFolder } from './paths.js';

export class InsufficientStorage extends Error {
  override name = 'InsufficientStorage';
}

/** A temp file name (hidden, unique) for a file being received: renamed into place once complete. */
export function tempName(): string {
  return `.upload-${randomBytes(8).toString('hex')}.part`;
}

const TEMP_NAME = /^\.upload-[0-9a-f]{16}\.part$/;

/** Bytes a non-root writer may still use on the filesystem holding path. */
export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

export async function assertRoomFor(path: string, bytes: number): Promise<void> {
  const free = await freeBytes(path);
  if (bytes > free) throw new InsufficientStorage(`${bytes} bytes do not fit: ${free} bytes free`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** `name.ext`, else `name (1).ext`, `name (2).ext`...: the first that does not exist in the folder. */
export async function freeName(folder: ConfinedFolder, name: string): Promise<string> {
  if (!(await exists(folder.at(name)))) return name;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = `${stem} (${i})${ext}`;
    if (!(await exists(folder.at(candidate)))) return candidate;
  }
}

async function syncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves a complete temp file to `name` in an opened folder: fsync the data, pick a free name unless overwriting,
 * rename (copy + fsync + rename across filesystems), fsync the folder. Every step goes through the folder's
 * descriptor. Returns the final real path.
 */
export async function commitFile(temp: string, folder: ConfinedFolder, name: string, overwrite: boolean): Promise<string> {
  await syncPath(temp, 'r+');
  const final = overwrite ? name : await freeName(folder, name);
  try {
    await rename(temp, folder.at(final));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const beside = folder.at(tempName());
    await copyFile(temp, beside);
    await syncPath(beside, 'r+');
    await rename(beside, folder.at(final));
    await rm(temp, { force: true });
  }
  await folder.handle.sync();
  return join(folder.real, final);
}

/**
 * Which temp files are being written: a marker per temp file in a folder of its own. A process killed mid-upload
 * cannot remove its temp file; the next start sweeps what the markers name.
 */
export class PartialUploads {
  constructor(
    /** Kept outside the served tree: a marker planted through the file routes could name any file. */
    private readonly dir: string,
    /** Temp files are only ever inside it. */
    private readonly rootReal: string,
  ) {}

  async begin(temp: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.dir, basename(temp)), temp);
  }

  async end(temp: string): Promise<void> {
    await rm(join(this.dir, basename(temp)), { force: true });
  }

  /** Removes the temp files left by a previous run (only names this module makes). Returns how many. */
  async sweep(): Promise<number> {
    let removed = 0;
    let markers: string[];
    try {
      markers = await readdir(this.dir);
    } catch {
      return 0;
    }
    for (const marker of markers) {
      const temp = (await readFile(join(this.dir, marker), 'utf8').catch(() => '')).trim();
      if (TEMP_NAME.test(marker) && basename(temp) === marker && isInside(this.rootReal, temp)) {
        await rm(temp, { force: true });
        removed += 1;
      }
      await rm(join(this.dir, marker), { force: true });
    }
    return removed;
  }
}
