import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_PORTS, type AgentName } from '@desktop-agents/kit';
import { POD_ENV, VOLUMES, type PodVariable, type VolumeName } from './pod.js';

export type Quantities = { memory: string; cpu: string };

export interface AgentPort {
  name: string;
  port: number;
  /** The env variable that sets it (the agent's own port: AGENT_PORTS). */
  env: string;
  note?: string;
}

/**
 * What one agent needs in a pod, declared once in agents/<name>/deploy.json: every deployment file (compose, the
 * Kubernetes manifests, abcdesktop's desktop.pod fragment) is generated from these.
 */
export interface AgentDescriptor {
  name: AgentName;
  /** `desktop`: layered onto the desktop image (what it starts must find the desktop's programs); `slim`: its own. */
  image: 'desktop' | 'slim';
  /** Debian packages the agent runs (the slim image installs them). */
  apt: string[];
  /** In abcdesktop's pod: a service inside the desktop image (oc.user), or a container of its own. */
  abcdesktop: { in: 'desktop' | 'container'; volumes: VolumeName[]; tcpport?: number };
  /** Its own port first (from the kit's AGENT_PORTS), then any other it listens on. */
  ports: AgentPort[];
  readiness: string;
  liveness: string;
  /** The pod-wide settings it reads (tools/deploy/pod.ts says how each gets its value), then its own. */
  podEnv: PodVariable[];
  env: Record<string, string>;
  /** Settings only the compose file sets. */
  composeEnv: Record<string, string>;
  volumes: VolumeName[];
  /** Footprints measured in the container pod (docs/deployment.md, "The container pod"). */
  resources: { note?: string; requests: Quantities; limits: Quantities };
  /** Containers that must be up first (compose's depends_on). */
  dependsOn: string[];
}

class DescriptorError extends Error {
  override name = 'DescriptorError';
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DescriptorError(`${where}: an object is expected`);
  return value as Json;
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new DescriptorError(`${where}: a list of strings is expected`);
  return value as string[];
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  const map = object(value, where);
  for (const [key, v] of Object.entries(map)) if (typeof v !== 'string') throw new DescriptorError(`${where}.${key}: a string is expected`);
  return map as Record<string, string>;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new DescriptorError(`${where}: one of ${allowed.join(', ')} is expected`);
  return value as T;
}

function volumes(value: unknown, where: string): VolumeName[] {
  return strings(value, where).map((v, i) => oneOf(v, Object.keys(VOLUMES) as VolumeName[], `${where}[${i}]`));
}

function quantities(value: unknown, where: string): Quantities {
  const q = object(value, where);
  if (typeof q['memory'] !== 'string' || !/^\d+(Mi|Gi)$/.test(q['memory'])) throw new DescriptorError(`${where}.memory: a quantity in Mi or Gi is expected`);
  if (typeof q['cpu'] !== 'string' || !/^\d+m?$/.test(q['cpu'])) throw new DescriptorError(`${where}.cpu: millicores or cores are expected`);
  return { memory: q['memory'], cpu: q['cpu'] };
}

/** A descriptor read and checked (every field, with the path of the first one that is wrong). */
export function parseDescriptor(name: AgentName, text: string): AgentDescriptor {
  const where = `agents/${name}/deploy.json`;
  const d = object(JSON.parse(text), where);
  const abc = object(d['abcdesktop'], `${where}: abcdesktop`);
  const own = AGENT_PORTS[name];
  const extra = (Array.isArray(d['ports']) ? d['ports'] : []).map((p: unknown, i: number) => {
    const port = object(p, `${where}: ports[${i}]`);
    if (typeof port['name'] !== 'string' || typeof port['env'] !== 'string' || typeof port['port'] !== 'number')
      throw new DescriptorError(`${where}: ports[${i}] needs name, env and port`);
    return { name: port['name'], env: port['env'], port: port['port'], ...(typeof port['note'] === 'string' ? { note: port['note'] } : {}) };
  });
  const resources = object(d['resources'], `${where}: resources`);
  const podEnv = strings(d['podEnv'], `${where}: podEnv`).map((v, i) => oneOf(v, Object.keys(POD_ENV) as PodVariable[], `${where}: podEnv[${i}]`));
  return {
    name,
    image: oneOf(d['image'], ['desktop', 'slim'] as const, `${where}: image`),
    apt: strings(d['apt'], `${where}: apt`),
    abcdesktop: {
      in: oneOf(abc['in'], ['desktop', 'container'] as const, `${where}: abcdesktop.in`),
      volumes: volumes(abc['volumes'], `${where}: abcdesktop.volumes`),
      ...(typeof abc['tcpport'] === 'number' ? { tcpport: abc['tcpport'] } : {}),
    },
    ports: [{ name, env: own.env, port: own.port }, ...extra],
    readiness: typeof d['readiness'] === 'string' ? d['readiness'] : '/readyz',
    liveness: typeof d['liveness'] === 'string' ? d['liveness'] : '/healthz',
    podEnv,
    env: stringMap(d['env'], `${where}: env`),
    composeEnv: stringMap(d['composeEnv'], `${where}: composeEnv`),
    volumes: volumes(d['volumes'], `${where}: volumes`),
    resources: {
      ...(typeof resources['note'] === 'string' ? { note: resources['note'] } : {}),
      requests: quantities(resources['requests'], `${where}: resources.requests`),
      limits: quantities(resources['limits'], `${where}: resources.limits`),
    },
    dependsOn: strings(d['dependsOn'], `${where}: dependsOn`),
  };
}

/** Every agent's descriptor, in the kit's order of agents. */
export function readDescriptors(root: string): AgentDescriptor[] {
  const present = new Set(readdirSync(join(root, 'agents')));
  return (Object.keys(AGENT_PORTS) as AgentName[]).map((name) => {
    const file = join(root, 'agents', name, 'deploy.json');
    if (!present.has(name) || !existsSync(file)) throw new DescriptorError(`agents/${name}/deploy.json is missing`);
    return parseDescriptor(name, readFileSync(file, 'utf8'));
  });
}
