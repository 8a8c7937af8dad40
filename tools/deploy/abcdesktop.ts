import { sumResources } from '../container-pod/layout.js';
import type { Container, EnvVar, PodManifest } from '../container-pod/manifest.js';
import type { AgentDescriptor } from './descriptors.js';
import { agentContainer, agentEnv, podAround } from './kubernetes.js';
import { GRAPHICAL, IMAGE_PREFIX, mounts, PRINTER, PULSEAUDIO, type VolumeName } from './pod.js';

/** Where images/abcdesktop/Containerfile puts the agents in the desktop image (as images/on-desktop does). */
export const LAYERED_HEALTHCHECK = '/opt/desktop-agents/app/shared/dist/healthcheck.js';
/** Its Node, named by its path: the desktop image's PATH is the desktop's own. */
const LAYERED_NODE = '/opt/desktop-agents/bin/node';

/** The images that take the places of abcdesktop's: the desktop image with our four, and oc.pulseaudio's. */
export const ABCDESKTOP_IMAGES = { graphical: 'abcdesktop-graphical', sound: 'abcdesktop-sound' } as const;

/** The agents abcdesktop runs inside its desktop image (oc.user's supervisord), the bus first. */
export function inDesktop(agents: AgentDescriptor[]): AgentDescriptor[] {
  return agents.filter((a) => a.abcdesktop.in === 'desktop').sort((a, b) => (a.name === 'broadcast' ? -1 : b.name === 'broadcast' ? 1 : 0));
}

function union<T>(lists: T[][], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of lists.flat()) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

/**
 * abcdesktop's own pod layout (its od.config desktop.pod): the desktop image runs X and, under its supervisord,
 * spawner, broadcast, webshell and printerfile (ours, one process, layered by images/abcdesktop/Containerfile);
 * printer, filer and sound are containers, sound with pulseaudio inside as oc.pulseaudio has it.
 */
export function abcdesktopManifest(agents: AgentDescriptor[]): PodManifest {
  const inside = inDesktop(agents);
  const names = inside.map((a) => a.name);
  const probe = (ready: boolean) => ({
    exec: { command: [LAYERED_NODE, LAYERED_HEALTHCHECK, ...(ready ? ['--ready'] : []), ...names] },
    ...(ready ? { periodSeconds: 5, failureThreshold: 2 } : { initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 }),
  });
  const graphical: Container = {
    ...structuredClone(GRAPHICAL),
    image: `${IMAGE_PREFIX}/${ABCDESKTOP_IMAGES.graphical}`,
    env: union<EnvVar>(inside.map(agentEnv), (e) => e.name),
    ports: [...(GRAPHICAL.ports ?? []), ...inside.flatMap((a) => a.ports.map((p) => ({ name: p.name, containerPort: p.port })))],
    resources: sumResources([GRAPHICAL, ...inside]),
    readinessProbe: probe(true),
    livenessProbe: probe(false),
    volumeMounts: union([GRAPHICAL.volumeMounts ?? [], mounts(inside.flatMap((a) => a.volumes))], (m) => m.mountPath),
  };
  const container = (agent: AgentDescriptor, extra: Partial<Container> = {}): Container => {
    const own = agentContainer(agent);
    const volumes: VolumeName[] = [...agent.volumes, ...agent.abcdesktop.volumes];
    return { ...own, ...extra, volumeMounts: union([mounts(volumes)], (m) => m.mountPath) };
  };
  const outside = agents.filter((a) => a.abcdesktop.in === 'container');
  const containers = [
    graphical,
    structuredClone(PRINTER),
    ...outside.map((a) =>
      a.name === 'sound' ? container(a, { image: `${IMAGE_PREFIX}/${ABCDESKTOP_IMAGES.sound}`, resources: sumResources([a, PULSEAUDIO]) }) : container(a),
    ),
  ];
  return podAround(containers);
}
