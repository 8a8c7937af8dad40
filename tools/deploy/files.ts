import { stringify } from 'yaml';
import { groupAgents } from '../container-pod/layout.js';
import { abcdesktopManifest } from './abcdesktop.js';
import { composeFile } from './compose.js';
import { readDescriptors, type AgentDescriptor } from './descriptors.js';
import { perAgentManifest } from './kubernetes.js';
import { odConfigText } from './od-config.js';
import { IMAGE_PREFIX } from './pod.js';

const generated = (what: string) => `# GENERATED from agents/*/deploy.json and tools/deploy/pod.ts by \`npm run manifests\`: do not edit.\n# ${what}\n`;
const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });

/** Every deployment file, by its path from the repository's root, as the descriptors make it. */
export function deploymentFiles(agents: AgentDescriptor[]): Map<string, string> {
  const pod = perAgentManifest(agents);
  return new Map([
    [
      'compose/desktop-pod.yaml',
      generated(
        "One user's desktop pod (../shared/spec/pod.md): each agent its own container with a /readyz probe; spawner and webshell\n" +
          '# from the desktop image with the agent layered on (images/on-desktop). `npm run pod` plays it on podman (its podman variant).',
      ) + yaml(pod),
    ],
    [
      'compose/desktop-pod.two-containers.yaml',
      generated(
        'The same pod with two agent containers, one Node process each (images/start-agents): desktop-agents (spawner +\n' +
          '# webshell, on the desktop image) and agents (broadcast + filer + printerfile + sound). `npm run pod -- --two-containers`.',
      ) + yaml(groupAgents(pod)),
    ],
    [
      'compose/desktop-pod.abcdesktop.yaml',
      generated(
        "abcdesktop's own layout (od.config desktop.pod): spawner, broadcast, webshell and printerfile inside the desktop image\n" +
          '# under its supervisord (images/abcdesktop); printer, filer and sound (with pulseaudio) as containers. `npm run pod -- --abcdesktop`.',
      ) + yaml(abcdesktopManifest(agents)),
    ],
    [
      'compose/compose.yaml',
      generated('The pod for compose on one machine: the graphical container owns the network, every agent joins it (network_mode: service:graphical).') +
        '# AUTH_TOKEN and BROADCAST_COOKIE come from the environment (an .env file beside this one). Build the images first: images/build-images.\n' +
        yaml(composeFile(agents)),
    ],
    ['compose/od.config.desktop-pod', odConfigText(agents, { registry: IMAGE_PREFIX, tag: 'latest' })],
  ]);
}

export function deploymentFilesOf(root: string): Map<string, string> {
  return deploymentFiles(readDescriptors(root));
}
