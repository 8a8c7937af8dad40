import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The path leaves the root, or is not a path we accept (NUL byte, `~otheruser`). */
export class PathOutsideRoot extends Error {
  override name = 'PathOutsideRoot';
}

export class PathNotFound extends Error {
  override name = 'PathNotFound';
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
  ) {}

  static async open(root: string): Promise<FileRoot> {
    return new FileRoot(resolve(root), await realpath(root));
  }

  /** The lexical target inside the real root, before any symlink is looked at. */
  candidate(userPath: string): string {
    if (userPath.includes('\0')) throw new PathOutsideRoot('path contains a NUL byte');
    let p = userPath;
    if (p === '~') p = '';
    else if (p.startsWith('~/')) p = p.slice(2);
    else if (p.startsWith('~')) throw new PathOutsideRoot('another user\'s home');
    if (isAbsolute(p)) {
      const abs = resolve(p);
      if (isInside(this.configured, abs)) return join(this.real, relative(this.configured, abs));
      if (isInside(this.real, abs)) return abs;
      throw new PathOutsideRoot('absolute path outside the root');
    }
    const abs = resolve(this.real, p);
    if (!isInside(this.real, abs)) throw new PathOutsideRoot('relative path leaves the root');
    return abs;
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
    return real;
  }

  /**
   * Where a new entry may be written: the nearest existing ancestor is resolved (symlinks included) and must be
   * inside the root; the parts below it do not exist yet, so no symlink can hide there. An existing final entry
   * that is a symlink is replaced by a rename, never written through.
   */
  async forWrite(userPath: string): Promise<string> {
    const abs = this.candidate(userPath);
    if (abs === this.real) throw new PathOutsideRoot('the root itself is not a file');
    const missing: string[] = [];
    let ancestor = dirname(abs);
    const name = abs.slice(ancestor.length + 1);
    for (;;) {
      try {
        await lstat(ancestor);
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        missing.unshift(ancestor.slice(dirname(ancestor).length + 1));
        ancestor = dirname(ancestor);
      }
    }
    const realAncestor = await realpath(ancestor);
    if (!isInside(this.real, realAncestor)) throw new PathOutsideRoot('folder leads out of the root');
    return join(realAncestor, ...missing, name);
  }

  /** The path as the user sees it, relative to the root. */
  relative(real: string): string {
    return relative(this.real, real);
  }
}
