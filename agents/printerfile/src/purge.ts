import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@desktop-agents/kit';

/** What the printer writes: only these are ever announced or purged. */
export function isPrintedFile(name: string): boolean {
  return !name.startsWith('.') && name.toLowerCase().endsWith('.pdf');
}

/**
 * Deletes the printer's output in folder (regular `*.pdf` files, not below it, never through a symlink) last
 * modified before now - maxAgeMs. Returns their names.
 */
export async function purgeOlderThan(folder: string, maxAgeMs: number, log: Logger, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(folder)) {
    const path = join(folder, name);
    try {
      const s = await lstat(path);
      if (s.isFile() && isPrintedFile(name) && now - s.mtimeMs > maxAgeMs) {
        await rm(path);
        removed.push(name);
      }
    } catch (err) {
      log.debug({ err: { message: (err as Error).message }, name }, 'purge skipped an entry');
    }
  }
  if (removed.length > 0) log.info({ removed: removed.length }, 'old printed files purged');
  return removed;
}
