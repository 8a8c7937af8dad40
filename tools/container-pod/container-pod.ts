import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { makeRunDir, repoRoot } from '../harness/index.js';
import { AGENT_PORTS } from '@desktop-agents/kit';
import { ownMemoryBytes } from './cgroup-memory.js';
import { sampleCgroup, type ContainerSample } from './cgroup-sample.js';
import { groupAgents } from './layout.js';
import { readManifest, secretRefs, type Container, type PodManifest } from './manifest.js';
import { buildImages, imagesPresent, projectPodman, type Podman } from './podman.js';
import { podmanVariant } from './variant.js';

export interface ContainerStatus {
  container: string;
  /** podman's state of the container (running, exited...). */
  state: string;
  ready: boolean;
  reason?: string;
  /** The agent's port, for containers probed over HTTP. */
  port?: number;
  url?: string;
}

export interface ContainerPod {
  name: string;
  /** The pod's address on podman's network (where its ports are). */
  ip: string;
  token: string;
  cookie: string;
  /** The manifest as played (the podman variant), and what it had to change. */
  manifest: PodManifest;
  gaps: string[];
  podman: Podman;
  layout: PodLayout;
  /** http://<pod ip>:<port> of an agent (by its name, whichever container it runs in). */
  url(container: string): string;
  /** podman's name of a container of the pod. */
  containerName(container: string): string;
  exec(container: string, argv: string[], options?: { timeoutMs?: number; input?: string | Buffer }): Promise<string>;
  stopContainer(container: string): Promise<void>;
  startContainer(container: string): Promise<void>;
  status(): Promise<ContainerStatus[]>;
  /** Waits until every container (or those named) is ready; rejects with each one's reason after timeoutMs. */
  waitReady(timeoutMs: number, containers?: string[]): Promise<ContainerStatus[]>;
  /** Where the start went, in ms from the moment `kube play` was run. */
  startup: PodStartup;
  /** What each container's processes hold now (anonymous and shared memory, no page cache), in MiB; podman's figure where its cgroup cannot be read. */
  memory(): Promise<Map<string, number>>;
  /** Each running container's memory, processes, threads, open fds and CPU time (from its cgroup and /proc). */
  samples(): Promise<Map<string, ContainerSample>>;
  stop(): Promise<void>;
}

export interface PodStartup {
  /** `podman kube play` returned: the pod and its containers created and started. */
  playedMs: number;
  /** Every container's readiness probe passed. */
  readyMs: number;
  /** When each container's probe first passed. */
  containersReadyMs: Map<string, number>;
}

/**
 * One container per agent (compose/desktop-pod.yaml), the two-container pod generated from it (layout.ts), or
 * abcdesktop's own layout (compose/desktop-pod.abcdesktop.yaml: four agents inside the desktop image).
 */
export type PodLayout = 'per-agent' | 'two-containers' | 'abcdesktop';

export interface ContainerPodOptions {
  manifestPath?: string;
  layout?: PodLayout;
  /** Pod name (default: the manifest's). */
  name?: string;
  /** Build the manifest's images first (default true; cached), or only when one of them is not in the store. */
  build?: boolean | 'when-missing';
  token?: string;
  readyTimeoutMs?: number;
  /** Settings added to every container that has env (the agents), after the manifest's own. */
  env?: Record<string, string>;
  /** Publish the containers' ports on the host, as podman 4.3 does (default true); false for several pods at once. */
  publishPorts?: boolean;
}

interface PsEntry {
  Names: string[];
  State: string;
}

/** The images of the manifest that images/build-images makes (localhost/desktop-agents/<name>). */
function projectImages(manifest: PodManifest): string[] {
  const names = new Set<string>();
  for (const c of [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers]) {
    const match = /^localhost\/desktop-agents\/([a-z0-9-]+)(:latest)?$/.exec(c.image);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names];
}

/** Plays the pod's manifest on podman (its generated podman variant) and waits until every container is ready. */
export async function startContainerPod(options: ContainerPodOptions = {}): Promise<ContainerPod> {
  const layout = options.layout ?? 'per-agent';
  const file = layout === 'abcdesktop' ? 'desktop-pod.abcdesktop.yaml' : 'desktop-pod.yaml';
  const written = readManifest(options.manifestPath ?? join(repoRoot(), 'compose', file));
  const source = layout === 'two-containers' ? groupAgents(written) : written;
  for (const container of source.spec.containers) {
    if (!container.env || !options.env) continue;
    const added = new Set(Object.keys(options.env));
    container.env = [...container.env.filter((e) => !added.has(e.name)), ...Object.entries(options.env).map(([name, value]) => ({ name, value }))];
  }
  const podman = projectPodman();
  const images = projectImages(source);
  const build = options.build ?? true;
  if (build === true || (build === 'when-missing' && !(await imagesPresent(images, podman)))) await buildImages(images, podman.workdir);
  const { manifest, gaps, secrets } = podmanVariant(source, {
    ...(options.name ? { name: options.name } : {}),
    ...(options.publishPorts === false ? { publishPorts: false } : {}),
  });
  const name = manifest.metadata.name;
  const token = options.token ?? randomBytes(24).toString('base64url');
  const cookie = randomBytes(16).toString('base64url');
  const values: Record<string, string> = { 'auth-token': token, 'broadcast-cookie': cookie };

  await podman(['pod', 'rm', '-f', '-t', '5', name]).catch(() => undefined);
  const run = await makeRunDir('container-pod');
  for (const [original, secret] of secrets) {
    const keys = secretRefs(source).get(original) ?? new Set<string>();
    const data = Object.fromEntries([...keys].map((key) => [key, Buffer.from(values[key] ?? randomBytes(16).toString('base64url')).toString('base64')]));
    await podman(['secret', 'rm', secret]).catch(() => undefined);
    // from a private file: podman reads `-` only from a FIFO, and Node's stdin pipes are sockets
    const dataFile = join(run.dir, `${secret}.secret.json`);
    await writeFile(dataFile, JSON.stringify(data), { mode: 0o600 });
    await podman(['secret', 'create', secret, dataFile]);
  }
  const played = join(run.dir, `${name}.podman.yaml`);
  await writeFile(played, `# generated from compose/${file} by tools/container-pod (podman variant)\n${stringify(manifest)}`);
  const playing = performance.now();
  await podman(['kube', 'play', played], { timeoutMs: 300_000 });
  const startup: PodStartup = { playedMs: performance.now() - playing, readyMs: Number.NaN, containersReadyMs: new Map() };

  const infra = (await podman(['pod', 'inspect', name, '--format', '{{.InfraContainerID}}'])).trim();
  const ip = (await podman(['inspect', infra, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'])).trim();
  if (!ip) throw new Error(`pod ${name} has no address on podman's network`);

  const byName = new Map(manifest.spec.containers.map((c) => [c.name, c]));
  const containerOf = (container: string): Container => {
    const c = byName.get(container);
    if (!c) throw new Error(`no container ${container} in pod ${name}`);
    return c;
  };
  // the probes of the manifest as written (the variant drops httpGet ones: podman ignores them)
  const sourceProbes = new Map(source.spec.containers.map((c) => [c.name, c.readinessProbe]));
  const containerName = (container: string) => `${name}-${container}`;
  const exec = (container: string, argv: string[], o: { timeoutMs?: number; input?: string | Buffer } = {}) =>
    podman(['exec', ...(o.input !== undefined ? ['-i'] : []), containerName(containerOf(container).name), ...argv], {
      timeoutMs: o.timeoutMs ?? 15_000,
      ...(o.input !== undefined ? { input: o.input } : {}),
    });
  const url = (agent: string) => {
    const port =
      sourceProbes.get(agent)?.httpGet?.port ?? (Object.hasOwn(AGENT_PORTS, agent) ? AGENT_PORTS[agent as keyof typeof AGENT_PORTS].port : undefined);
    if (port === undefined) throw new Error(`no agent ${agent} in pod ${name}`);
    return `http://${ip}:${port}`;
  };

  async function probe(container: Container, state: string): Promise<ContainerStatus> {
    const readiness = sourceProbes.get(container.name);
    const port = readiness?.httpGet?.port;
    const base = { container: container.name, state, ...(port !== undefined ? { port, url: `http://${ip}:${port}` } : {}) };
    if (state !== 'running') return { ...base, ready: false, reason: `container ${state}` };
    try {
      if (readiness?.httpGet) {
        const reply = await fetch(`http://${ip}:${readiness.httpGet.port}${readiness.httpGet.path}`, { signal: AbortSignal.timeout(3_000) });
        if (reply.ok) return { ...base, ready: true };
        const body = (await reply.json().catch(() => ({}))) as { reason?: string; message?: string };
        return { ...base, ready: false, reason: body.reason ?? body.message ?? `HTTP ${reply.status}` };
      }
      if (readiness?.exec) await exec(container.name, readiness.exec.command, { timeoutMs: 5_000 });
      return { ...base, ready: true };
    } catch (err) {
      return { ...base, ready: false, reason: (err as Error).message.split('\n')[0] ?? 'probe failed' };
    }
  }

  async function status(): Promise<ContainerStatus[]> {
    const entries = JSON.parse(await podman(['ps', '-a', '--filter', `pod=${name}`, '--format', 'json'])) as PsEntry[];
    const states = new Map(entries.map((e) => [e.Names[0] ?? '', e.State]));
    return Promise.all(manifest.spec.containers.map((c) => probe(c, states.get(containerName(c.name)) ?? 'missing')));
  }

  async function waitReady(timeoutMs: number, containers?: string[]): Promise<ContainerStatus[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await status();
      for (const s of all) if (s.ready && !startup.containersReadyMs.has(s.container)) startup.containersReadyMs.set(s.container, performance.now() - playing);
      const wanted = containers ? all.filter((s) => containers.includes(s.container)) : all;
      if (wanted.every((s) => s.ready)) return all;
      if (Date.now() > deadline) {
        throw new Error(
          `pod ${name} not ready after ${timeoutMs} ms: ${wanted
            .filter((s) => !s.ready)
            .map((s) => `${s.container}: ${s.reason}`)
            .join('; ')}`,
        );
      }
      await sleep(100);
    }
  }

  /** container → its cgroup path (podman's State.CgroupPath), for the running ones. */
  async function cgroupPaths(): Promise<Map<string, string>> {
    const names = manifest.spec.containers.map((c) => containerName(c.name));
    const lines = (await podman(['inspect', '--format', '{{.Name}} {{.State.CgroupPath}}', ...names]).catch(() => '')).trim().split('\n');
    const paths = new Map<string, string>();
    for (const line of lines) {
      const [full, path] = line.trim().split(/\s+/);
      if (full && path) paths.set(full.slice(name.length + 1), path);
    }
    return paths;
  }

  const pod: ContainerPod = {
    name,
    layout,
    ip,
    token,
    cookie,
    manifest,
    gaps,
    podman,
    startup,
    url,
    containerName,
    exec,
    async stopContainer(container) {
      await podman(['stop', '-t', '5', containerName(containerOf(container).name)]);
    },
    async startContainer(container) {
      await podman(['start', containerName(containerOf(container).name)]);
    },
    status,
    waitReady,
    async memory() {
      const names = manifest.spec.containers.map((c) => containerName(c.name));
      const lines = await podman(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsageBytes}}', ...names]);
      const usage = new Map<string, number>();
      for (const line of lines.trim().split('\n')) {
        const [full, bytes] = line.trim().split(/\s+/);
        if (full && bytes) usage.set(full.slice(name.length + 1), parseSize(bytes) / 2 ** 20);
      }
      // the processes' own memory where the cgroup files can be read (podman's figure counts page cache too)
      for (const [container, path] of await cgroupPaths()) {
        const own = await ownMemoryBytes(path);
        if (own !== undefined) usage.set(container, own / 2 ** 20);
      }
      return usage;
    },
    async samples() {
      const samples = new Map<string, ContainerSample>();
      for (const [container, path] of await cgroupPaths()) {
        const sample = await sampleCgroup(path);
        if (sample) samples.set(container, sample);
      }
      return samples;
    },
    async stop() {
      await podman(['pod', 'rm', '-f', '-t', '10', name]).catch(() => undefined);
      for (const secret of secrets.values()) await podman(['secret', 'rm', secret]).catch(() => undefined);
      await run.remove();
    },
  };
  try {
    await waitReady(options.readyTimeoutMs ?? 90_000);
    startup.readyMs = performance.now() - playing;
  } catch (err) {
    await pod.stop();
    throw err;
  }
  return pod;
}

/** "12.5MB", "300kB", "1.2GiB" → bytes (podman's human sizes). */
export function parseSize(text: string): number {
  const match = /^([\d.]+)\s*([kKMGT]?i?B?)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toUpperCase().replace('IB', 'B');
  const scale: Record<string, number> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, K: 1e3, M: 1e6, G: 1e9 };
  const binary = /i/i.test(match[2] ?? '') ? { KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 } : {};
  return value * ((binary as Record<string, number>)[unit] ?? scale[unit] ?? Number.NaN);
}

/** The network `podman kube play` attaches its pods to. */
const KUBE_NETWORK = 'podman-default-kube-network';

/** IPv4 text ↔ number. */
const ipNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const ipText = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export interface PodmanPeerAddress {
  address: string;
  /** Puts the address on podman's bridge (the bridge exists once a pod runs on the network). */
  attach(): Promise<void>;
  detach(): Promise<void>;
}

/**
 * A second address of this machine on podman's network, near the end of its subnet: a proxy bound to it reaches the
 * pod from an address that is neither the pod's nor the one the host's own clients come from (the gateway), as
 * abcdesktop's router is another pod of the cluster.
 */
export async function podmanPeerAddress(podman: Podman = projectPodman()): Promise<PodmanPeerAddress> {
  // the network kube play puts its pods on (it makes it on its first play; the same here when none has run yet)
  await podman(['network', 'exists', KUBE_NETWORK]).catch(() => podman(['network', 'create', KUBE_NETWORK]));
  const [subnet = '', bridge = ''] = (
    await podman(['network', 'inspect', KUBE_NETWORK, '--format', '{{range .Subnets}}{{.Subnet}}{{end}} {{.NetworkInterface}}'])
  )
    .trim()
    .split(/\s+/);
  const [base = '', bits = '32'] = subnet.split('/');
  if (!base || !bridge || base.includes(':')) throw new Error(`podman's network has no IPv4 subnet and bridge: "${subnet}" "${bridge}"`);
  const size = 2 ** (32 - Number(bits));
  const address = ipText(ipNumber(base) + size - 3);
  const ip = (args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('ip', args, (err, _out, stderr) => (err && !/File exists|Cannot assign/.test(stderr) ? reject(new Error(stderr.trim())) : resolve())),
    );
  return {
    address,
    attach: () => ip(['addr', 'add', `${address}/32`, 'dev', bridge]),
    detach: () => ip(['addr', 'del', `${address}/32`, 'dev', bridge]),
  };
}
