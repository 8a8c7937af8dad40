import { LAYERED_HEALTHCHECK } from './abcdesktop.js';
import type { AgentDescriptor } from './descriptors.js';
import { DESKTOP_VOLUMES, IMAGE_PREFIX, POD_ENV, POD_ORDER, VOLUMES, type VolumeName } from './pod.js';

type Service = Record<string, unknown>;

const volumeList = (names: readonly VolumeName[]) => names.map((v) => `${v}:${VOLUMES[v].mountPath}`);

function composeEnv(agent: AgentDescriptor): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of agent.podEnv) {
    const source = POD_ENV[name];
    if ('kubernetesOnly' in source) continue;
    env[name] = 'value' in source ? source.value : 'compose' in source && source.compose !== undefined ? source.compose : '';
  }
  return { ...env, ...agent.env, ...agent.composeEnv };
}

const healthcheck = (test: string[], interval: string) => ({ test: ['CMD', ...test], interval, timeout: '3s', retries: 6 });

function agentService(agent: AgentDescriptor): Service {
  const script = agent.image === 'desktop' ? LAYERED_HEALTHCHECK : '/app/shared/dist/healthcheck.js';
  const after = Object.fromEntries(['graphical', ...agent.dependsOn].map((d) => [d, { condition: 'service_healthy' }]));
  return {
    image: `${IMAGE_PREFIX}/${agent.name}`,
    network_mode: 'service:graphical',
    pid: 'service:graphical',
    restart: 'unless-stopped',
    depends_on: after,
    ...(agent.volumes.length > 0 ? { volumes: volumeList(agent.volumes) } : {}),
    environment: composeEnv(agent),
    healthcheck: healthcheck(['node', script, '--ready', agent.name], '10s'),
  };
}

/** compose/compose.yaml: the same pod for a Docker or podman compose on one machine. */
export function composeFile(agents: AgentDescriptor[]): Record<string, unknown> {
  const byName = new Map(agents.map((a) => [a.name as string, a]));
  const joined = { network_mode: 'service:graphical', depends_on: { graphical: { condition: 'service_healthy' } } };
  const others: Record<string, Service> = {
    graphical: {
      image: `${IMAGE_PREFIX}/graphical`,
      build: { context: '../images/graphical' },
      shm_size: '256m',
      // the pod's ports, on this machine's loopback only
      ports: agents.flatMap((a) => a.ports.map((p) => `127.0.0.1:${p.port}:${p.port}`)),
      volumes: volumeList([...DESKTOP_VOLUMES, 'log']),
      healthcheck: { test: ['CMD', 'xdpyinfo', '-display', ':0'], interval: '5s', timeout: '3s', retries: 10 },
    },
    printer: {
      image: `${IMAGE_PREFIX}/printer`,
      build: { context: '../images/printer' },
      ...joined,
      volumes: volumeList(['tmp', 'pdf']),
      healthcheck: healthcheck(['lpstat', '-h', 'localhost:681', '-r'], '10s'),
    },
    pulseaudio: {
      image: `${IMAGE_PREFIX}/pulseaudio`,
      build: { context: '../images/pulseaudio' },
      ...joined,
      volumes: volumeList(['tmp']),
      healthcheck: healthcheck(['pactl', 'info'], '10s'),
    },
  };
  const services = Object.fromEntries(
    POD_ORDER.map((name) => {
      const agent = byName.get(name);
      const service = agent ? agentService(agent) : others[name];
      if (!service) throw new Error(`no descriptor for ${name}`);
      return [name, service];
    }),
  );
  const used = new Set<VolumeName>(
    Object.values(services).flatMap((s) => ((s['volumes'] as string[] | undefined) ?? []).map((v) => v.split(':')[0] as VolumeName)),
  );
  const volumes = Object.fromEntries(
    (Object.keys(VOLUMES) as VolumeName[])
      .filter((v) => used.has(v))
      .map((v) => [v, v === 'shm' ? { driver_opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=256m' } } : {}]),
  );
  return { services, volumes };
}
