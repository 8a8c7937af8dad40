import { hostname } from 'node:os';
import type { Container, PodManifest } from './manifest.js';

/** The field paths podman 4.3's kube play resolves in `valueFrom.fieldRef` (others fail the whole play). */
const PODMAN_FIELD_PATHS = [/^metadata\.name$/, /^metadata\.uid$/, /^metadata\.labels(\[.*\])?$/, /^metadata\.annotations(\[.*\])?$/];

export interface VariantOptions {
  /** The pod's name (and the name its secrets get), instead of the manifest's. */
  name?: string;
  /** Values for the field paths podman does not resolve. */
  fields?: Record<string, string>;
  /**
   * Whether the containers' ports are kept (default true). podman 4.3 publishes every containerPort on the host's
   * same port (Kubernetes publishes none without hostPort), so a second pod on the machine cannot start: false drops
   * them (the pod is reached at its own address on podman's network, as in a cluster).
   */
  publishPorts?: boolean;
}

export interface PodmanVariant {
  manifest: PodManifest;
  /** What was rewritten, and why: the gaps between podman 4.3 and Kubernetes this manifest meets. */
  gaps: string[];
  /** Secret name in the manifest → secret name in the variant. */
  secrets: Map<string, string>;
}

/**
 * The podman variant of a Pod manifest, generated (never kept as a second copy): podman 4.3's kube play lacks some
 * Kubernetes features the manifest uses, and each is rewritten here to what podman does instead.
 */
export function podmanVariant(source: PodManifest, options: VariantOptions = {}): PodmanVariant {
  // a JSON copy: YAML aliases came in as shared objects, and each container is rewritten on its own
  const manifest = JSON.parse(JSON.stringify(source)) as PodManifest;
  const gaps = new Set<string>();
  const secrets = new Map<string, string>();
  const original = manifest.metadata.name;
  const name = options.name ?? original;
  manifest.metadata.name = name;
  const fields: Record<string, string> = { 'status.podIP': '0.0.0.0', 'metadata.namespace': 'default', 'spec.nodeName': hostname(), ...options.fields };

  const containers: Container[] = [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers];
  for (const container of containers) {
    for (const variable of container.env ?? []) {
      const field = variable.valueFrom?.fieldRef?.fieldPath;
      if (field && !PODMAN_FIELD_PATHS.some((p) => p.test(field))) {
        const value = fields[field];
        if (value === undefined) throw new Error(`fieldRef ${field} (env ${variable.name} of ${container.name}) has no value for podman`);
        variable.value = value;
        delete variable.valueFrom;
        gaps.add(
          `fieldRef ${field} is not resolved by podman: set to "${value}"${field === 'status.podIP' ? ' (agents listen on every address of the pod)' : ''}`,
        );
      }
      const secret = variable.valueFrom?.secretKeyRef;
      if (secret) {
        const renamed = secret.name === original ? name : secret.name;
        secrets.set(secret.name, renamed);
        secret.name = renamed;
      }
    }
    for (const key of ['readinessProbe', 'livenessProbe'] as const) {
      if (container[key]?.httpGet) {
        delete container[key];
        gaps.add(`${key}.httpGet makes no podman health check: dropped; the runner polls each agent's /readyz itself (liveness is not watched)`);
      }
    }
  }

  if (options.publishPorts === false) {
    for (const container of containers) delete container.ports;
    gaps.add("containerPorts are dropped: podman 4.3 publishes each on the host's same port, which allows one pod per machine");
  }

  if ((manifest.spec.initContainers ?? []).length > 0) {
    // podman 4.3 removes a run-once init container right after waiting for it, and that removal races its exit
    // ("cannot remove container ... as it is running" fails the whole play): keep it instead (it runs at each pod start)
    const annotations = (manifest.metadata['annotations'] ?? {}) as Record<string, string>;
    manifest.metadata['annotations'] = { ...annotations, 'io.podman.annotations.init.container.type': 'always' };
    // and it applies the pod's restart policy to init containers too: under Always a finished init restarts forever
    if ((manifest.spec['restartPolicy'] ?? 'Always') === 'Always') manifest.spec['restartPolicy'] = 'OnFailure';
    gaps.add(
      'init containers are kept and the restart policy is OnFailure (podman 4.3 races removing a run-once init container, and restarts a finished one under Always)',
    );
  }

  // podman mounts a memory emptyDir on disk; the pod's containers already share one IPC namespace and its /dev/shm (a
  // tmpfs), so a memory volume at /dev/shm is dropped in favour of that one
  const memoryAtShm = new Set(
    (manifest.spec.volumes ?? [])
      .filter((v) => v.emptyDir?.medium === 'Memory')
      .map((v) => v.name)
      .filter((v) => containers.some((c) => c.volumeMounts?.some((m) => m.name === v && m.mountPath === '/dev/shm'))),
  );
  if (memoryAtShm.size > 0) {
    manifest.spec.volumes = manifest.spec.volumes?.filter((v) => !memoryAtShm.has(v.name));
    for (const container of containers) container.volumeMounts = container.volumeMounts?.filter((m) => !memoryAtShm.has(m.name));
    gaps.add("emptyDir medium Memory is a folder on disk in podman: /dev/shm is the pod's shared IPC tmpfs instead (podman's size, 64 MB)");
  }
  for (const volume of manifest.spec.volumes ?? []) {
    if (volume.emptyDir?.medium === 'Memory') gaps.add(`emptyDir ${volume.name} (medium Memory) is on disk in podman`);
  }
  return { manifest, gaps: [...gaps], secrets };
}
