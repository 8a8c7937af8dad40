// The parts of the desktop pod that are not agents (after the control plane's desktop.pod description:
// ../shared/spec/pod.md), and how each pod-wide setting gets its value in Kubernetes and in compose.
import type { Container } from '../container-pod/manifest.js';

/** The pod's name in the committed manifests (a local user's; the control plane fills in its own). */
export const POD_NAME = 'desktop-alice';
export const USER_ID = 4096;
export const IMAGE_PREFIX = 'localhost/desktop-agents';

/** The volumes agents and containers share, and where each is mounted. */
export const VOLUMES = {
  tmp: { mountPath: '/tmp', emptyDir: {} },
  x11: { mountPath: '/tmp/.X11-unix', emptyDir: {} },
  shm: { mountPath: '/dev/shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } },
  home: { mountPath: '/home/balloon', emptyDir: {} },
  run: { mountPath: '/var/run/desktop', emptyDir: {} },
  pdf: { mountPath: '/var/spool/desktop-pdf', emptyDir: {} },
  // upload staging outside the home (the filer's default /var/tmp/...), writable under a read-only root
  staging: { mountPath: '/var/tmp', emptyDir: {} },
  log: { mountPath: '/var/log/desktop', emptyDir: {} },
} as const;
export type VolumeName = keyof typeof VOLUMES;

type EnvValue = { value: string } | { field: string; compose?: string } | { secret: string; compose: string } | { field: string; kubernetesOnly: true };

/** Every pod-wide setting an agent may read, once. */
export const POD_ENV = {
  CONTAINER_IP_ADDR: { field: 'status.podIP', compose: '0.0.0.0' },
  HOME: { value: VOLUMES.home.mountPath },
  DISPLAY: { value: ':0' },
  PULSE_SERVER: { value: 'unix:/tmp/.pulse.sock' },
  // the desktop's session bus (graphical starts it on the shared run folder): the spawner's notifications
  DBUS_SESSION_BUS_ADDRESS: { value: 'unix:path=/var/run/desktop/bus' },
  AUTH_TOKEN: { secret: 'auth-token', compose: '${AUTH_TOKEN:?set AUTH_TOKEN}' },
  BROADCAST_COOKIE: { secret: 'broadcast-cookie', compose: '${BROADCAST_COOKIE:?set BROADCAST_COOKIE}' },
  POD_NAME: { field: 'metadata.name', kubernetesOnly: true },
  POD_NAMESPACE: { field: 'metadata.namespace', kubernetesOnly: true },
  NODE_NAME: { field: 'spec.nodeName', kubernetesOnly: true },
} as const satisfies Record<string, EnvValue>;
export type PodVariable = keyof typeof POD_ENV;

export const AGENT_SECURITY = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } as const;

export const mounts = (names: readonly VolumeName[]) => names.map((name) => ({ name, mountPath: VOLUMES[name].mountPath }));

/** What the desktop's own containers mount: everything an app of the desktop may touch. */
export const DESKTOP_VOLUMES: VolumeName[] = ['tmp', 'x11', 'shm', 'home', 'run'];

const xdpyinfo = ['xdpyinfo', '-display', ':0'];

export const INIT: Container = {
  name: 'init',
  image: `${IMAGE_PREFIX}/graphical`,
  // as root, once: the home belongs to the user; the shared socket folders are sticky and open to the pod's users;
  // the PDF folder is the user's too (sticky: only its owner may delete the PDFs the printer writes as another user)
  command: [
    '/bin/sh',
    '-c',
    `chmod 750 /home/balloon && chown ${USER_ID}:${USER_ID} /home/balloon && chmod 1777 /tmp /tmp/.X11-unix /var/spool/desktop-pdf /var/tmp && chown ${USER_ID}:${USER_ID} /var/run/desktop /var/log/desktop /var/spool/desktop-pdf`,
  ],
  securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
  resources: { requests: { memory: '8Mi', cpu: '10m' }, limits: { memory: '32Mi', cpu: '100m' } },
  volumeMounts: mounts(['home', 'tmp', 'x11', 'pdf', 'run', 'staging', 'log']),
};

export const GRAPHICAL: Container = {
  name: 'graphical',
  image: `${IMAGE_PREFIX}/graphical`,
  ports: [{ name: 'vnc', containerPort: 6081 }],
  resources: { requests: { memory: '320Mi', cpu: '250m' }, limits: { memory: '1Gi', cpu: '1' } },
  readinessProbe: { exec: { command: xdpyinfo }, periodSeconds: 5 },
  livenessProbe: { exec: { command: xdpyinfo }, initialDelaySeconds: 10, periodSeconds: 20 },
  volumeMounts: mounts([...DESKTOP_VOLUMES, 'log']),
};

export const PRINTER: Container = {
  name: 'printer',
  image: `${IMAGE_PREFIX}/printer`,
  ports: [{ name: 'ipp', containerPort: 681 }],
  resources: { requests: { memory: '64Mi', cpu: '125m' }, limits: { memory: '512Mi', cpu: '500m' } },
  readinessProbe: { exec: { command: ['lpstat', '-h', 'localhost:681', '-r'] }, periodSeconds: 10 },
  livenessProbe: { exec: { command: ['lpstat', '-h', 'localhost:681', '-r'] }, initialDelaySeconds: 10, periodSeconds: 30 },
  // cups-pdf runs only under a root cupsd
  securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false },
  volumeMounts: mounts(['pdf', 'tmp']),
};

export const PULSEAUDIO: Container = {
  name: 'pulseaudio',
  image: `${IMAGE_PREFIX}/pulseaudio`,
  // spec/pod.md's 8Mi is below what a cold pod charges it (12 MiB measured: the first reader of its files pays)
  resources: { requests: { memory: '16Mi', cpu: '50m' }, limits: { memory: '64Mi', cpu: '250m' } },
  readinessProbe: { exec: { command: ['pactl', 'info'] }, periodSeconds: 10 },
  livenessProbe: { exec: { command: ['pactl', 'info'] }, initialDelaySeconds: 10, periodSeconds: 30 },
  volumeMounts: mounts(['tmp']),
};

/** The order of the pod's containers; agents by name. */
export const POD_ORDER = ['graphical', 'spawner', 'webshell', 'broadcast', 'printer', 'printerfile', 'filer', 'pulseaudio', 'sound'] as const;
