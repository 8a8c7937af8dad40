// npm start: a whole local pod. Starts Xvfb + openbox, PulseAudio and cupsd on private sockets, then every agent in
// agents/ (the bus first) on its abcdesktop port when free, prints a table of agent, URL and readiness, and stops
// everything on Ctrl-C. `--once` stops right after the table (used by the tests).
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AGENT_PORTS, type AgentName } from '@desktop-agents/kit';
import { freePort, makeRunDir, repoRoot, startAgent, type RunningAgent } from '../harness/index.js';
import { startComponents } from './components.js';

const once = process.argv.includes('--once');
const root = repoRoot();

async function portFor(name: string): Promise<number> {
  const wanted = name in AGENT_PORTS ? AGENT_PORTS[name as AgentName].port : 0;
  if (wanted === 0) return freePort();
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

function agentNames(): string[] {
  const dir = join(root, 'agents');
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'package.json')));
  // the bus first: the others publish on it
  return names.sort((a, b) => (a === 'broadcast' ? -1 : b === 'broadcast' ? 1 : a.localeCompare(b)));
}

const token = process.env['AUTH_TOKEN'] ?? randomBytes(24).toString('base64url');
const cookie = process.env['BROADCAST_COOKIE'] ?? randomBytes(16).toString('base64url');
const run = await makeRunDir('pod');
const home = join(run.dir, 'home');
await mkdir(home, { recursive: true });

console.log('starting X display, PulseAudio and cupsd...');
const components = await startComponents();
for (const problem of components.problems) console.log(`  not started: ${problem}`);

const busPort = await portFor('broadcast');
const env: Record<string, string> = {
  AUTH_TOKEN: token,
  BROADCAST_COOKIE: cookie,
  HOME: home,
  BROADCAST_SERVICE_TCP_PORT: String(busPort),
  ...(components.x ? { DISPLAY: components.x.display } : {}),
  ...(components.pulse ? { PULSE_SERVER: components.pulse.server, PULSE_SOCKET: components.pulse.socket } : {}),
  ...(components.cups ? { CUPS_SERVER: components.cups.server, PRINTER_NAME: components.cups.printer, WATCHDIR: components.cups.outDir } : {}),
  SPAWNER_PID_FILE: join(run.dir, 'spawner.pid'),
};

const agents: RunningAgent[] = [];
const rows: string[][] = [];
for (const name of agentNames()) {
  const port = name === 'broadcast' ? busPort : await portFor(name);
  try {
    const agent = await startAgent(name, { env, port, awaitReady: false });
    agents.push(agent);
    const ready = await agent.get('/readyz');
    rows.push([name, String(port), agent.url, ready.status === 200 ? 'ready' : `not ready: ${JSON.stringify(ready.body)}`]);
  } catch (err) {
    rows.push([name, String(port), '-', `failed: ${(err as Error).message.split('\n')[0]}`]);
  }
}

console.log('');
console.log(['component', 'where'].join('\t'));
console.log(`X display\t${components.x?.display ?? 'not running'}`);
console.log(`PulseAudio\t${components.pulse?.server ?? 'not running'}`);
console.log(`cupsd\t${components.cups ? `${components.cups.server} (queue ${components.cups.printer}, PDFs in ${components.cups.outDir})` : 'not running'}`);
console.log('');
const table = [['agent', 'port', 'url', 'ready'], ...rows];
const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
if (rows.length === 0) console.log('(no agents in agents/ yet)');
console.log('');
console.log(`home: ${home}`);
console.log(`token: AUTH_TOKEN=${token}  (send as "Authorization: Bearer <token>" or ?jwt_token=<token>)`);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('stopping...');
    await Promise.all(agents.map((a) => a.stop()));
    await components.stop();
    await run.remove();
  }
  process.exit(code);
}

if (once) await stop(rows.every((r) => r[3] === 'ready') ? 0 : 1);
console.log('pod running; Ctrl-C stops it');
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
