import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ownMemoryBytes } from './cgroup-memory.js';

/** What a container's processes hold and use at one moment, read from its cgroup and /proc. */
export interface ContainerSample {
  /** Anonymous + shared memory (no page cache), MiB: the figure the pod runner reports. */
  memoryMiB: number;
  /** Processes in the container (the main one included). */
  processes: number;
  threads: number;
  /** Open file descriptors of all its processes. */
  fds: number;
  /** CPU time used since the container started, in seconds. */
  cpuSeconds: number;
}

/** The first of these files that can be read (cgroup v2 first, then v1's controllers). */
async function firstReadable(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

async function cpuSeconds(cgroupPath: string): Promise<number> {
  const v2 = await readFile(join('/sys/fs/cgroup', cgroupPath, 'cpu.stat'), 'utf8').catch(() => undefined);
  const usec = v2 ? /^usage_usec (\d+)$/m.exec(v2)?.[1] : undefined;
  if (usec !== undefined) return Number(usec) / 1e6;
  const ns = await firstReadable([
    join('/sys/fs/cgroup/cpuacct', cgroupPath, 'cpuacct.usage'),
    join('/sys/fs/cgroup/cpu,cpuacct', cgroupPath, 'cpuacct.usage'),
  ]);
  return ns === undefined ? Number.NaN : Number(ns.trim()) / 1e9;
}

async function threadsOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
}

async function fdsOf(pid: number): Promise<number> {
  // a process that exits between the listing and here holds none
  return (await readdir(`/proc/${pid}/fd`).catch(() => [])).length;
}

/** One sample of a container by its cgroup path (podman's State.CgroupPath); undefined when the cgroup is gone. */
export async function sampleCgroup(cgroupPath: string): Promise<ContainerSample | undefined> {
  const procs = await firstReadable([
    join('/sys/fs/cgroup', cgroupPath, 'cgroup.procs'),
    join('/sys/fs/cgroup/memory', cgroupPath, 'cgroup.procs'),
    join('/sys/fs/cgroup/pids', cgroupPath, 'cgroup.procs'),
  ]);
  const memory = await ownMemoryBytes(cgroupPath);
  if (procs === undefined || memory === undefined) return undefined;
  const pids = procs
    .split('\n')
    .filter(Boolean)
    .map((p) => Number(p));
  const [threads, fds] = await Promise.all([Promise.all(pids.map(threadsOf)), Promise.all(pids.map(fdsOf))]);
  return {
    memoryMiB: memory / 2 ** 20,
    processes: pids.length,
    threads: threads.reduce((a, b) => a + b, 0),
    fds: fds.reduce((a, b) => a + b, 0),
    cpuSeconds: await cpuSeconds(cgroupPath),
  };
}
