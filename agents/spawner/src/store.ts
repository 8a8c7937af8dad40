import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Keys are plain names: no separators, no dot-only names, so a key never leaves the store folder. */
export const KEY_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$';

/** abcdesktop's desktop settings store: one small file per key in ~/.store. */
export class SettingsStore {
  constructor(private readonly dir: string) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, key), 'utf8');
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.${key}.tmp`);
    await writeFile(temp, value, { mode: 0o600 });
    await rename(temp, join(this.dir, key));
  }
}
