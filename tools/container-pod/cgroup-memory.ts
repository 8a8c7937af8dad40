import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** memory.stat's `key value` lines. */
function statOf(text: string): Map<string, number> {
  return new Map(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([key, value]) => [key ?? '', Number(value)]),
  );
}

/**
 * What a container's processes hold themselves, in bytes: anonymous memory plus shared memory and tmpfs (the
 * desktop's /dev/shm), from its cgroup's memory.stat (v2, or v1's memory controller). Page cache is left out: the
 * pages of files every container reads (node's binary, the agents' bundles) are charged to whichever cgroup reads
 * them first, which made the same idle agent 60 MiB one run and 115 the next. Undefined when the files are not
 * there (another cgroup layout): the caller falls back to what podman reports.
 */
export async function ownMemoryBytes(cgroupPath: string): Promise<number | undefined> {
  for (const [dir, keys] of [
    [join('/sys/fs/cgroup', cgroupPath), ['anon', 'shmem']],
    [join('/sys/fs/cgroup/memory', cgroupPath), ['total_rss', 'total_shmem']],
  ] as const) {
    const text = await readFile(join(dir, 'memory.stat'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const stat = statOf(text);
    if (keys.every((k) => stat.has(k))) return keys.reduce((sum, k) => sum + (stat.get(k) ?? 0), 0);
  }
  return undefined;
}
