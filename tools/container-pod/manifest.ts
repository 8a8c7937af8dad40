import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// The parts of a Kubernetes Pod this tool reads or rewrites (the rest passes through untouched).
export interface Probe {
  httpGet?: { path: string; port: number };
  exec?: { command: string[] };
  [key: string]: unknown;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [key: string]: unknown;
}
export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; [key: string]: unknown };
  spec: {
    initContainers?: Container[];
    containers: Container[];
    volumes?: Array<{ name: string; emptyDir?: { medium?: string; sizeLimit?: string }; [key: string]: unknown }>;
    [key: string]: unknown;
  };
}

/** The manifest with its YAML anchors and merges resolved into plain values. */
export function readManifest(path: string): PodManifest {
  const manifest = parse(readFileSync(path, 'utf8'), { merge: true }) as PodManifest;
  if (manifest?.kind !== 'Pod' || !Array.isArray(manifest.spec?.containers)) throw new Error(`${path} is not a Pod manifest`);
  return manifest;
}

/** The secrets the manifest's env refers to: name → keys. */
export function secretRefs(manifest: PodManifest): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  for (const container of [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers]) {
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) refs.set(ref.name, (refs.get(ref.name) ?? new Set()).add(ref.key));
    }
  }
  return refs;
}
