// npm start: a whole local pod. Starts Xvfb + openbox, PulseAudio and cupsd on private sockets, then every agent in
// agents/ (the bus first) on its abcdesktop port when free, and a status page; prints a table of agent, URL and
// readiness, and stops everything on Ctrl-C. `--once` stops right after the table (used by the tests).
import { startPod } from './pod.js';
import { podStatus, startStatusServer } from './status.js';

const once = process.argv.includes('--once');

console.log('starting X display, PulseAudio, cupsd and the agents...');
const pod = await startPod({ preferDefaults: true });
for (const problem of pod.components.problems) console.log(`  not started: ${problem}`);
const statusServer = await startStatusServer(pod, Number(process.env['POD_STATUS_PORT'] ?? 29780)).catch(() => startStatusServer(pod, 0));
// give every agent a moment to reach its dependency before the table
await new Promise((resolve) => setTimeout(resolve, 500));
const statuses = await podStatus(pod);

const { x, pulse, cups } = pod.components;
console.log('');
console.log(`X display\t${x?.display ?? 'not running'}`);
console.log(`PulseAudio\t${pulse?.server ?? 'not running'}`);
console.log(`cupsd\t${cups ? `${cups.server} (queue ${cups.printer}, PDFs in ${cups.outDir})` : 'not running'}`);
console.log('');
const table = [
  ['agent', 'port', 'url', 'ready'],
  ...statuses.map((s, i) => [s.name, String(pod.agents[i]?.port ?? ''), s.url || '-', s.ready ? 'ready' : `not ready: ${s.reason ?? ''}`]),
];
const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
if (statuses.length === 0) console.log('(no agents in agents/ yet)');
console.log('');
console.log(`status page: ${statusServer.url}/`);
console.log(`home: ${pod.home}`);
console.log(`token: AUTH_TOKEN=${pod.token}  (send as "Authorization: Bearer <token>" or ?jwt_token=<token>)`);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('stopping...');
    statusServer.server.close();
    await pod.stop();
  }
  process.exit(code);
}

if (once) await stop(statuses.every((s) => s.ready) && pod.components.problems.length === 0 ? 0 : 1);
console.log('pod running; Ctrl-C stops it');
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
