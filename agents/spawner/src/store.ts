import { mkdir, realpath, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openInside } from '@desktop-agents/files';

/**
 * What the validator accepts as a key: printable name characters. Whether the key stays in the store is the store's
 * own check (a key that would leave it is not found, as the original's callers expect, not malformed).
 */
export const KEY_PATTERN = '^[A-Za-z0-9_./~-]{1,128}$';

/** A key names one file directly in the store: no separator, not `.` or `..`. */
function isStoreName(key: string): boolean {
  return !key.includes('/') && key !== '.' && key !== '..';
}

/** abcdesktop's desktop settings store: one small file per key in ~/.store. */
export class SettingsStore {
  constructor(private readonly dir: string) {}

  /** The value, or undefined when there is none (or the key does not name a file of the store). */
  async get(key: string): Promise<string | undefined> {
    if (!isStoreName(key)) return undefined;
    try {
      // read through the opened descriptor: a symlink out of the store is not followed out
      const root = await realpath(this.dir);
      const { handle, stat } = await openInside(root, join(root, key));
      try {
        return stat.isFile() ? await handle.readFile('utf8') : undefined;
      } finally {
        await handle.close();
      }
    } catch {
      return undefined;
    }
  }

  /** False when the key does not name a file of the store. A symlink there is replaced, never written through. */
  async set(key: string, value: string): Promise<boolean> {
    if (!isStoreName(key)) return false;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.${key}.tmp`);
    await writeFile(temp, value, { mode: 0o600 });
    await rename(temp, join(this.dir, key));
    return true;
  }
}
