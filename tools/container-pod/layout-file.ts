import { stringify } from 'yaml';
import { groupAgents } from './layout.js';
import { readManifest } from './manifest.js';

/** The text of the two-container manifest generated from the per-agent one at `source`. */
export function twoContainerManifestText(source: string): string {
  const header = [
    '# GENERATED from compose/desktop-pod.yaml by `npm run manifests` (tools/container-pod/layout.ts): do not edit.',
    '# The same pod with two agent containers instead of six, each one Node process (images/start-agents):',
    '# desktop-agents (spawner + webshell, on the desktop image) and agents (broadcast + filer + printerfile + sound).',
  ];
  return `${header.join('\n')}\n${stringify(groupAgents(readManifest(source)), { lineWidth: 0 })}`;
}
