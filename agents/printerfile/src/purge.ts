import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@desktop-agents/kit';

/** Deletes the regular files of folder (not below it) last modified before now - maxAgeMs. Returns their names. */
export async function purgeOlderThan(folder: string, maxAgeMs: number, log: Logger, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(folder)) {
    const path = join(folder, name);
    try {
      const s = await stat(path);
      if (s.isFile() && now - s.mtimeMs > maxAgeMs) {
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
