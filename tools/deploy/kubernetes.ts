import type { Container, EnvVar, PodManifest, Probe } from '../container-pod/manifest.js';
import type { AgentDescriptor } from './descriptors.js';
import {
  AGENT_SECURITY,
  GRAPHICAL,
  IMAGE_PREFIX,
  INIT,
  mounts,
  POD_ENV,
  POD_NAME,
  POD_ORDER,
  PRINTER,
  PULSEAUDIO,
  USER_ID,
  VOLUMES,
  type PodVariable,
  type VolumeName,
} from './pod.js';

/** A pod-wide setting as Kubernetes writes it: a value, a field of the pod, or a key of the pod's secret. */
export function kubernetesEnv(name: PodVariable): EnvVar {
  const source = POD_ENV[name];
  if ('value' in source) return { name, value: source.value };
  if ('secret' in source) return { name, valueFrom: { secretKeyRef: { name: POD_NAME, key: source.secret } } };
  return { name, valueFrom: { fieldRef: { fieldPath: source.field } } };
}

export function agentEnv(agent: AgentDescriptor): EnvVar[] {
  return [...agent.podEnv.map(kubernetesEnv), ...Object.entries(agent.env).map(([name, value]) => ({ name, value }))];
}

const httpProbe = (path: string, port: number, ready: boolean): Probe =>
  ready
    ? { httpGet: { path, port }, periodSeconds: 5, failureThreshold: 2 }
    : { httpGet: { path, port }, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 };

/** One agent in a container of its own, on its image (layered onto the desktop's, or slim). */
export function agentContainer(agent: AgentDescriptor): Container {
  const own = agent.ports[0];
  if (!own) throw new Error(`${agent.name}: no port`);
  return {
    name: agent.name,
    image: `${IMAGE_PREFIX}/${agent.name}`,
    env: agentEnv(agent),
    ports: agent.ports.map((p) => ({ name: p.name, containerPort: p.port })),
    resources: { requests: { ...agent.resources.requests }, limits: { ...agent.resources.limits } },
    readinessProbe: httpProbe(agent.readiness, own.port, true),
    livenessProbe: httpProbe(agent.liveness, own.port, false),
    securityContext: structuredClone(AGENT_SECURITY),
    ...(agent.volumes.length > 0 ? { volumeMounts: mounts(agent.volumes) } : {}),
  };
}

export function podVolumes(names: Iterable<VolumeName>): NonNullable<PodManifest['spec']['volumes']> {
  const wanted = new Set(names);
  return (Object.keys(VOLUMES) as VolumeName[]).filter((v) => wanted.has(v)).map((name) => ({ name, emptyDir: structuredClone(VOLUMES[name].emptyDir) }));
}

function volumesOf(containers: Container[]): Set<VolumeName> {
  return new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name as VolumeName)));
}

/** The pod around its containers: a shared process namespace, the user's ids, every volume a container mounts. */
export function podAround(containers: Container[], initContainers: Container[] = [INIT]): PodManifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: POD_NAME, labels: { 'app.kubernetes.io/part-of': 'desktop-agents', type: 'x11server' } },
    spec: {
      shareProcessNamespace: true,
      securityContext: { runAsUser: USER_ID, runAsGroup: USER_ID, fsGroup: USER_ID, supplementalGroups: [USER_ID] },
      initContainers: structuredClone(initContainers),
      containers,
      volumes: podVolumes(volumesOf([...initContainers, ...containers])),
    },
  };
}

/** The pod with every agent in its own container (compose/desktop-pod.yaml). */
export function perAgentManifest(agents: AgentDescriptor[]): PodManifest {
  const byName = new Map(agents.map((a) => [a.name as string, a]));
  const others: Record<string, Container> = { graphical: GRAPHICAL, printer: PRINTER, pulseaudio: PULSEAUDIO };
  const containers = POD_ORDER.map((name) => {
    const agent = byName.get(name);
    const other = others[name];
    if (agent) return agentContainer(agent);
    if (other) return structuredClone(other);
    throw new Error(`no descriptor for ${name}`);
  });
  return podAround(containers);
}
