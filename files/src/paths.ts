import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The path leaves the root, or is not a path we accept (NUL byte, `~otheruser`). */
export class PathOutsideRoot extends Error {
  override name = 'PathOutsideRoot';
}

export class PathNotFound extends Error {
  override name = 'PathNotFound';
}

/** A FIFO, socket or device where a file or folder was expected: never opened for reading (it could block). */
export class NotRegularFile extends Error {
  override name = 'NotRegularFile';
}

/** Where the kernel says an open descriptor really points (Linux): the check made on what was opened, not a name. */
export function descriptorPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

export interface OpenedEntry {
  handle: FileHandle;
  /** The real path of what was opened, read back from the descriptor. */
  real: string;
  stat: Stats;
}

/**
 * Opens path without blocking (O_NONBLOCK: a FIFO with no writer would hold a thread of the pool forever), then checks
 * what was opened: the descriptor's real path must be inside rootReal (a folder swapped for a symlink between a name
 * check and the open is caught here), and only regular files and folders are accepted. The caller closes the handle.
 */
export async function openInside(rootReal: string, path: string, flags = 0): Promise<OpenedEntry> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR' && flags & constants.O_DIRECTORY) throw new NotRegularFile('not a folder');
    if (isNotFound(err)) throw new PathNotFound(path);
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new PathOutsideRoot('a symlink where a folder was opened');
    throw err;
  }
  try {
    const real = await readlink(descriptorPath(handle));
    if (!isInside(rootReal, real)) throw new PathOutsideRoot('the opened entry is outside the root');
    const stat = await handle.stat();
    if (!stat.isFile() && !stat.isDirectory()) throw new NotRegularFile('not a regular file or folder');
    return { handle, real, stat };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * A folder opened inside the root. Names below it are reached through its descriptor (`/proc/self/fd/N/name`), so
 * whatever happens to the path that led here (a rename, a swap for a symlink) cannot move the operation elsewhere.
 */
export class ConfinedFolder {
  private constructor(
    readonly handle: FileHandle,
    /** Its real path when opened (for messages and relative paths; operations go through the descriptor). */
    readonly real: string,
  ) {}

  static async open(rootReal: string, folder: string): Promise<ConfinedFolder> {
    const opened = await openInside(rootReal, folder, constants.O_DIRECTORY | constants.O_NOFOLLOW);
    return new ConfinedFolder(opened.handle, opened.real);
  }

  /** The path of a name inside this folder, through its descriptor. */
  at(...names: string[]): string {
    return join(descriptorPath(this.handle), ...names);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** The nearest existing folder at or above path, and the names below it that do not exist yet (outermost first). */
async function nearestExisting(path: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = [];
  let existing = path;
  for (;;) {
    try {
      await lstat(existing);
      return { existing, missing };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
}

/** Runs fn with the folder opened, and closes it after. */
export async function withFolder<T>(rootReal: string, folder: string, fn: (dir: ConfinedFolder) => Promise<T>): Promise<T> {
  const dir = await ConfinedFolder.open(rootReal, folder);
  try {
    return await fn(dir);
  } finally {
    await dir.close();
  }
}

/** True when p is root or below it, with a separator boundary (`/home/user2` is not inside `/home/user`). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';
}

/**
 * A folder that user paths are confined to. Accepts `~`, `~/x`, home-relative `x/y` and absolute paths inside the
 * root; resolves symlinks and refuses any result outside the root.
 */
export class FileRoot {
  private constructor(
    /** The root as configured (HOME may itself be a symlink). */
    readonly configured: string,
    /** Its real path: every result is inside it. */
    readonly real: string,
    /** Folders inside the root that user paths may not reach (the agent's own state, e.g. upload staging). */
    private readonly reserved: string[],
  ) {}

  static async open(root: string, reserved: string[] = []): Promise<FileRoot> {
    const real = await realpath(root);
    const reservedReal = await Promise.all(reserved.map(async (r) => realpath(r).catch(() => resolve(r))));
    return new FileRoot(
      resolve(root),
      real,
      reservedReal.filter((r) => isInside(real, r) && r !== real),
    );
  }

  #checkReserved(abs: string): string {
    if (this.reserved.some((r) => isInside(r, abs))) throw new PathOutsideRoot('a folder the agent keeps for itself');
    return abs;
  }

  /** The lexical target inside the real root, before any symlink is looked at. */
  candidate(userPath: string): string {
    if (userPath.includes('\0')) throw new PathOutsideRoot('path contains a NUL byte');
    let p = userPath;
    if (p === '~') p = '';
    else if (p.startsWith('~/')) p = p.slice(2);
    else if (p.startsWith('~')) throw new PathOutsideRoot("another user's home");
    if (isAbsolute(p)) {
      const abs = resolve(p);
      if (isInside(this.configured, abs)) return this.#checkReserved(join(this.real, relative(this.configured, abs)));
      if (isInside(this.real, abs)) return this.#checkReserved(abs);
      throw new PathOutsideRoot('absolute path outside the root');
    }
    const abs = resolve(this.real, p);
    if (!isInside(this.real, abs)) throw new PathOutsideRoot('relative path leaves the root');
    return this.#checkReserved(abs);
  }

  /** The real path of an existing entry inside the root. */
  async existing(userPath: string): Promise<string> {
    const abs = this.candidate(userPath);
    let real: string;
    try {
      real = await realpath(abs);
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFound(userPath);
      throw err;
    }
    if (!isInside(this.real, real)) throw new PathOutsideRoot('symlink leads out of the root');
    return this.#checkReserved(real);
  }

  /**
   * An existing entry itself, its last component not followed: a symlink is the link, not what it points to (what
   * delete works on). Returns its folder's real path and its name.
   */
  async entry(userPath: string): Promise<{ folder: string; name: string }> {
    const abs = this.candidate(userPath);
    if (abs === this.real) throw new PathOutsideRoot('the root itself');
    const folder = await this.existing(dirname(abs));
    const name = abs.slice(dirname(abs).length + 1);
    try {
      await lstat(join(folder, name));
    } catch (err) {
      if (isNotFound(err)) throw new PathNotFound(userPath);
      throw err;
    }
    return { folder, name };
  }

  /** Opens an existing entry for reading, checked on the descriptor (see openInside). */
  async openExisting(userPath: string): Promise<OpenedEntry> {
    const opened = await openInside(this.real, await this.existing(userPath));
    try {
      this.#checkReserved(opened.real);
    } catch (err) {
      await opened.handle.close();
      throw err;
    }
    return opened;
  }

  /**
   * Opens a folder (a real path inside the root, as forWrite gives), creating what is missing one level at a time
   * through the descriptor of the level above: a folder swapped for a symlink meanwhile is refused, never written into.
   */
  async makeFolder(folder: string): Promise<ConfinedFolder> {
    const { existing, missing } = await nearestExisting(folder);
    let dir = await ConfinedFolder.open(this.real, existing);
    for (const part of missing) {
      const parent = dir;
      try {
        await mkdir(parent.at(part)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        dir = await ConfinedFolder.open(this.real, parent.at(part));
      } finally {
        await parent.close();
      }
    }
    return dir;
  }

  /**
   * Where a new entry may be written: the nearest existing ancestor is resolved (symlinks included) and must be
   * inside the root; the parts below it do not exist yet, so no symlink can hide there. An existing final entry
   * that is a symlink is replaced by a rename, never written through.
   */
  async forWrite(userPath: string): Promise<string> {
    const abs = this.candidate(userPath);
    if (abs === this.real) throw new PathOutsideRoot('the root itself is not a file');
    const name = basename(abs);
    const { existing: ancestor, missing } = await nearestExisting(dirname(abs));
    const realAncestor = await realpath(ancestor);
    if (!isInside(this.real, realAncestor)) throw new PathOutsideRoot('folder leads out of the root');
    return join(realAncestor, ...missing, name);
  }

  /** The path as the user sees it, relative to the root. */
  relative(real: string): string {
    return relative(this.real, real);
  }
}
