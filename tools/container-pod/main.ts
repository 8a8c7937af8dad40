// npm run pod: the product as it ships. Builds the images (cached), plays compose/desktop-pod.yaml on podman (its
// generated podman variant), waits until every container's readiness probe passes, prints the table of containers,
// ports and the token, and removes the pod on Ctrl-C. `--once` removes it right after the table (used by tests);
// `--two-containers` plays the two-agent-container layout generated from the same manifest, `--abcdesktop` abcdesktop's
// own layout (compose/desktop-pod.abcdesktop.yaml). Without --once it stays, watching readiness, until Ctrl-C or SIGTERM.
import { podmanMissing } from './podman.js';
import { startContainerPod } from './container-pod.js';

const once = process.argv.includes('--once');
// --name N: the pod's name (default: the manifest's)
const nameAt = process.argv.indexOf('--name');
const name = nameAt >= 0 ? process.argv[nameAt + 1] : undefined;
// --two-containers: spawner + webshell in one process on the desktop image, the other four in one on the slim image
const layout = process.argv.includes('--two-containers') ? 'two-containers' : process.argv.includes('--abcdesktop') ? 'abcdesktop' : 'per-agent';
const missing = podmanMissing();
if (missing) {
  console.error(`npm run pod needs rootful podman: ${missing}. \`npm run up\` runs the same agents as host processes.`);
  process.exit(1);
}

console.log('building the images (cached) and playing compose/desktop-pod.yaml on podman...');
const pod = await startContainerPod({ layout, ...(name ? { name } : {}), ...(process.env['AUTH_TOKEN'] ? { token: process.env['AUTH_TOKEN'] } : {}) });
const [statuses, memory] = await Promise.all([pod.status(), pod.memory().catch(() => new Map<string, number>())]);

console.log('');
console.log(`pod ${pod.name} at ${pod.ip} (podman network); what the podman variant changes:`);
for (const gap of pod.gaps) console.log(`  - ${gap}`);
console.log('');
const table = [
  ['container', 'port', 'url', 'memory', 'ready'],
  ...statuses.map((s) => [
    s.container,
    s.port ? String(s.port) : '-',
    s.url ?? '-',
    memory.has(s.container) ? `${(memory.get(s.container) ?? 0).toFixed(1)} MiB` : '-',
    s.ready ? 'ready' : `not ready: ${s.reason ?? ''}`,
  ]),
];
const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
console.log('');
console.log(`token: AUTH_TOKEN=${pod.token}  (send as "Authorization: Bearer <token>" or ?jwt_token=<token>)`);
console.log(`containers: podman --storage-driver overlay --root ${pod.podman.workdir}/storage ps --pod`);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('removing the pod...');
    await pod.stop();
  }
  process.exit(code);
}

if (once) await stop(statuses.every((s) => s.ready) ? 0 : 1);
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
console.log('pod running; Ctrl-C removes it');
// the watch is what keeps this process (and so the pod) until a signal: a container whose readiness changes is said
const last = new Map(statuses.map((s) => [s.container, s.ready]));
setInterval(() => {
  if (stopping) return;
  pod
    .status()
    .then((now) => {
      for (const s of now) {
        if (last.get(s.container) === s.ready) continue;
        last.set(s.container, s.ready);
        console.log(`${new Date().toISOString()} ${s.container}: ${s.ready ? 'ready' : `not ready: ${s.reason ?? ''}`}`);
      }
    })
    .catch((err: unknown) => console.log(`status: ${err instanceof Error ? err.message : String(err)}`));
}, 5_000);
