import type { Container, EnvVar, PodManifest, Probe } from './manifest.js';

/** Agents that share one container and one Node process (images/start-agents runs them with npm run agents). */
export interface AgentGroup {
  container: string;
  image: string;
  agents: string[];
  /** The kit's health check script inside that image. */
  healthcheck: string;
}

/** The two agent containers of a dense pod: what needs the desktop's programs, and what does not. */
export const TWO_CONTAINERS: AgentGroup[] = [
  {
    container: 'desktop-agents',
    image: 'localhost/desktop-agents/desktop-agents',
    agents: ['spawner', 'webshell'],
    healthcheck: '/opt/desktop-agents/app/shared/dist/healthcheck.js',
  },
  {
    container: 'agents',
    image: 'localhost/desktop-agents/agents',
    agents: ['broadcast', 'filer', 'printerfile', 'sound'],
    healthcheck: '/app/shared/dist/healthcheck.js',
  },
];

/** "48Mi" + "1Gi", "25m" + "1": Kubernetes quantities added (Mi/Gi memory, millicores cpu). */
function addQuantities(a: string | undefined, b: string | undefined, kind: 'memory' | 'cpu'): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const parse = (q: string) =>
    kind === 'memory' ? Number.parseFloat(q) * (q.endsWith('Gi') ? 1024 : 1) : q.endsWith('m') ? Number.parseFloat(q) : Number.parseFloat(q) * 1000;
  const sum = parse(a) + parse(b);
  return kind === 'memory' ? `${sum}Mi` : `${sum}m`;
}

/** The requests and the limits of several containers added up (what one container running them all needs). */
export function sumResources(containers: ReadonlyArray<Pick<Container, 'resources'>>): NonNullable<Container['resources']> {
  const total: NonNullable<Container['resources']> = {};
  for (const key of ['requests', 'limits'] as const) {
    const into: Record<string, string> = {};
    for (const c of containers) {
      for (const kind of ['memory', 'cpu'] as const) {
        const added = addQuantities(into[kind], c.resources?.[key]?.[kind], kind);
        if (added !== undefined) into[kind] = added;
      }
    }
    total[key] = into;
  }
  return total;
}

/**
 * The pod with each group's agents in one container (one process) instead of one container each, generated from the
 * per-agent manifest: env, ports and mounts joined, resources summed, and exec probes that check every agent of the
 * container (a container has one readiness probe; the kit's health check script asks each agent's /readyz).
 */
export function groupAgents(source: PodManifest, groups: AgentGroup[] = TWO_CONTAINERS): PodManifest {
  const manifest = JSON.parse(JSON.stringify(source)) as PodManifest;
  for (const group of groups) {
    const members = manifest.spec.containers.filter((c) => group.agents.includes(c.name));
    if (members.length !== group.agents.length) throw new Error(`${group.container}: the manifest lacks some of ${group.agents.join(', ')}`);
    const env = new Map<string, EnvVar>();
    for (const variable of members.flatMap((c) => c.env ?? [])) if (!env.has(variable.name)) env.set(variable.name, variable);
    // filer and printerfile read the same port variable in abcdesktop: each keeps its own port here
    if (group.agents.includes('printerfile')) env.set('PRINTERFILE_SERVICE_TCP_PORT', { name: 'PRINTERFILE_SERVICE_TCP_PORT', value: '29782' });
    const mounts = new Map<string, { name: string; mountPath: string }>();
    for (const mount of members.flatMap((c) => c.volumeMounts ?? [])) if (!mounts.has(mount.mountPath)) mounts.set(mount.mountPath, mount);
    const resources = sumResources(members);
    const probe = (ready: boolean, base: Probe | undefined): Probe => ({
      exec: { command: ['node', group.healthcheck, ...(ready ? ['--ready'] : []), ...group.agents] },
      ...Object.fromEntries(Object.entries(base ?? {}).filter(([k]) => k !== 'httpGet' && k !== 'exec')),
    });
    const first = members[0] as Container;
    const merged: Container = {
      ...first,
      name: group.container,
      image: group.image,
      env: [...env.values()],
      ports: members.flatMap((c) => c.ports ?? []),
      resources,
      readinessProbe: probe(true, first.readinessProbe),
      livenessProbe: probe(false, first.livenessProbe),
      volumeMounts: [...mounts.values()],
    };
    const at = manifest.spec.containers.indexOf(first);
    manifest.spec.containers = manifest.spec.containers.flatMap((c, i) => (i === at ? [merged] : group.agents.includes(c.name) ? [] : [c]));
  }
  return manifest;
}
