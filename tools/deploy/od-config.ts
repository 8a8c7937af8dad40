import { ABCDESKTOP_IMAGES, abcdesktopManifest, inDesktop } from './abcdesktop.js';
import type { Container } from '../container-pod/manifest.js';
import type { AgentDescriptor } from './descriptors.js';
import { AGENT_SECURITY, PRINTER, VOLUMES, type VolumeName } from './pod.js';

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** A value in Python's literal syntax, as od.config (read by Python) writes its dicts: 'single quotes', True/False. */
export function pythonLiteral(value: PyValue, indent = 0): string {
  const pad = '  '.repeat(indent);
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[ ${value.map((v) => pythonLiteral(v, indent)).join(', ')} ]`;
  const entries = Object.entries(value);
  const flat = entries.every(([, v]) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((i) => typeof i !== 'object')));
  if (flat && entries.length <= 4) return `{ ${entries.map(([k, v]) => `'${k}': ${pythonLiteral(v, indent)}`).join(', ')} }`;
  return `{\n${entries.map(([k, v]) => `${pad}  '${k}': ${pythonLiteral(v, indent + 1)}`).join(',\n')}\n${pad}}`;
}

export interface OdConfigOptions {
  /** Where the operator's registry holds our images (default: the names images/build-images gives them). */
  registry: string;
  /** The tag to pull. */
  tag: string;
}

const resources = (r: Container['resources']): PyValue => ({
  requests: { ...r?.requests },
  limits: { ...r?.limits },
});

/**
 * The entries of abcdesktop's od.config `desktop.pod` that a drop-in changes, generated from the descriptors: the
 * desktop image with our four in-desktop agents, our printer, filer and sound images in place of oc.cupsd, oc.filer
 * and oc.pulseaudio, each with the volumes od.config mounts and the resources measured in the container pod. The
 * operator merges them into desktop.pod (README, "Deploying into abcdesktop").
 */
export function odConfigFragment(agents: AgentDescriptor[], options: OdConfigOptions): Record<string, PyValue> {
  const image = (name: string) => `${options.registry}/${name}:${options.tag}`;
  // the desktop container's budget holds the four agents it now runs, as in the abcdesktop-layout manifest
  const desktop = abcdesktopManifest(agents).spec.containers.find((c) => c.name === 'graphical');
  const fragment: Record<string, PyValue> = {
    // the printer's PDFs reach printerfile (in the desktop image) through a volume of their own
    default_volumes: { pdf: { name: 'pdf', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } } },
    default_volumes_mount: { pdf: { name: 'pdf', mountPath: VOLUMES.pdf.mountPath } },
    graphical: {
      image: { default: image(ABCDESKTOP_IMAGES.graphical) },
      volumes: ['x11socket', 'tmp', 'run', 'log', 'rundbus', 'runuser', 'shm', 'pdf'],
      tcpport: 6081,
      enable: true,
      acl: { permit: ['all'] },
      resources: resources(desktop?.resources),
    },
  };
  for (const agent of inDesktop(agents)) {
    fragment[agent.name] = {
      enable: true,
      tcpport: agent.ports[0]?.port ?? 0,
      acl: { permit: ['all'] },
    };
  }
  fragment['printer'] = {
    enable: true,
    image: image('printer'),
    imagePullPolicy: 'IfNotPresent',
    volumes: ['tmp', 'pdf'],
    tcpport: 681,
    securityContext: { runAsUser: 0, runAsGroup: 0 },
    acl: { permit: ['all'] },
    resources: resources(PRINTER.resources),
  };
  for (const agent of agents.filter((a) => a.abcdesktop.in === 'container')) {
    const volumes: VolumeName[] = agent.abcdesktop.volumes;
    fragment[agent.name] = {
      enable: true,
      image: image(agent.name === 'sound' ? ABCDESKTOP_IMAGES.sound : agent.name),
      imagePullPolicy: 'IfNotPresent',
      volumes: [...volumes],
      tcpport: agent.abcdesktop.tcpport ?? agent.ports[0]?.port ?? 0,
      securityContext: { allowPrivilegeEscalation: AGENT_SECURITY.allowPrivilegeEscalation },
      acl: { permit: ['all'] },
      resources: resources(agent.resources),
    };
  }
  return fragment;
}

/** The fragment as the text an operator pastes into od.config's `desktop.pod : { ... }`. */
export function odConfigText(agents: AgentDescriptor[], options: OdConfigOptions): string {
  const fragment = odConfigFragment(agents, options);
  const header = [
    '# GENERATED from agents/*/deploy.json by `npm run od-config` (tools/deploy): the desktop.pod entries a drop-in of',
    '# desktop-agents changes. Merge each key into the desktop.pod of your od.config (default_volumes and',
    '# default_volumes_mount: add the pdf entry beside yours); keep your other entries (init, storage, ...) as they are.',
  ];
  const body = Object.entries(fragment).map(([key, value]) => `  '${key}': ${pythonLiteral(value, 1)}`);
  return `${header.join('\n')}\n{\n${body.join(',\n')}\n}\n`;
}
