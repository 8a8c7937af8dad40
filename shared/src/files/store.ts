import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export class InsufficientStorage extends Error {
  override name = 'InsufficientStorage';
}

/** A temp file name beside the target (hidden, unique): renamed into place once complete. */
export function tempPathIn(folder: string): string {
  return join(folder, `.upload-${randomBytes(8).toString('hex')}.part`);
}

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

/** `name.ext`, else `name (1).ext`, `name (2).ext`...: the first that does not exist. */
export async function freeName(target: string): Promise<string> {
  if (!(await exists(target))) return target;
  const ext = extname(target);
  const stem = target.slice(0, target.length - ext.length);
  for (let i = 1; ; i++) {
    const candidate = `${stem} (${i})${ext}`;
    if (!(await exists(candidate))) return candidate;
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
 * Moves a complete temp file to its place: fsync the data, create missing folders, pick a free name unless
 * overwriting, rename (copy + fsync + rename across filesystems), fsync the folder. Returns the final path.
 */
export async function commitFile(temp: string, target: string, overwrite: boolean): Promise<string> {
  await syncPath(temp, 'r+');
  await mkdir(dirname(target), { recursive: true });
  const final = overwrite ? target : await freeName(target);
  try {
    await rename(temp, final);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const beside = tempPathIn(dirname(final));
    await copyFile(temp, beside);
    await syncPath(beside, 'r+');
    await rename(beside, final);
    await rm(temp, { force: true });
  }
  await syncPath(dirname(final), 'r');
  return final;
}

/**
 * Which temp files are being written: a marker per temp file in a folder of its own. A process killed mid-upload
 * cannot remove its temp file; the next start sweeps what the markers name.
 */
export class PartialUploads {
  constructor(private readonly dir: string) {}

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
      if (/^\.upload-[0-9a-f]{16}\.part$/.test(basename(temp)) && basename(temp) === marker) {
        await rm(temp, { force: true });
        removed += 1;
      }
      await rm(join(this.dir, marker), { force: true });
    }
    return removed;
  }
}
