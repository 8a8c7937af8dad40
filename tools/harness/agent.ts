import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_PORTS, ownPortVariable, type AgentName } from '@desktop-agents/kit';
import { freePort, startProcess, waitFor, type Exit, type ManagedProcess } from './process.js';

/** The checkout's root: the first folder above this file whose package.json declares workspaces. */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) return dir;
  }
  throw new Error(`no workspace root above ${from}`);
}

/**
 * What `npm start -w agents/<name>` runs: its package.json start script, `node [flags] <entry>`, as an argv for
 * this Node binary.
 */
export function agentCommand(root: string, name: string): string[] {
  const dir = join(root, 'agents', name);
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`no agent named ${name} in ${join(root, 'agents')}`);
  return startCommand(dir);
}

/** What `npm run agents` runs (multi/'s start script), as an argv for this Node binary; the agents' names follow it. */
export function agentsInOneProcessCommand(root: string): string[] {
  return startCommand(join(root, 'multi'));
}

function startCommand(dir: string): string[] {
  const manifest = join(dir, 'package.json');
  const { scripts } = JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: { start?: string } };
  const words = (scripts?.start ?? '').split(/\s+/).filter(Boolean);
  if (words[0] !== 'node' || words.length < 2) throw new Error(`${manifest}: the start script must be "node [flags] <entry>"`);
  return words.slice(1).map((w) => (w.startsWith('-') ? w : join(dir, w)));
}

/**
 * The process settings an agent runs with in its image (images/start-agents sets the same): two malloc arenas
 * instead of one per thread, measured ~5 MiB less at the peak of a 1 GiB transfer and ~1 MiB less idle.
 */
export const AGENT_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The Node flags every agent starts with (build/node-flags.json), for references that must start as the agents do. */
export function agentNodeFlags(root = repoRoot()): string[] {
  return (JSON.parse(readFileSync(join(root, 'build', 'node-flags.json'), 'utf8')) as { flags: string[] }).flags;
}

/**
 * A bench's reference process started exactly as the agents are: their Node flags, their process env and LOG_LEVEL,
 * so that the tuning an agent gets, its reference gets too. `args` follow the flags (a script, or -e and its code).
 */
export function startLikeAnAgent(name: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): ManagedProcess {
  return startProcess(name, process.execPath, [...agentNodeFlags(), ...args], {
    cwd: options.cwd ?? repoRoot(),
    env: { ...process.env, ...AGENT_PROCESS_ENV, LOG_LEVEL: 'warn', ...options.env },
  });
}

/** The sound agent's abcdesktop 4.x ports are fixed by default: off in tests unless a test sets them (no clashes). */
const TEST_DEFAULTS: Readonly<Record<string, string>> = { SOUND_SPEAKER_TCP_PORT: '0', SOUND_MICROPHONE_TCP_PORT: '0' };

export interface RunningAgent {
  name: string;
  port: number;
  host: string;
  /** http://host:port */
  url: string;
  process: ManagedProcess;
  /** The agent's JSON log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  /** GET a path; resolves with status and parsed JSON body. */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown }>;
  /** SIGTERM and wait; SIGKILL past graceMs. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface StartAgentOptions {
  env?: Record<string, string>;
  /** Wait for /readyz to answer 200 (default), or only for /healthz. */
  awaitReady?: boolean;
  timeoutMs?: number;
  /** The script to run; defaults to the agent's built entry point, what `npm start -w agents/<name>` runs. */
  entry?: string;
  port?: number;
  /** The env variable carrying the port, when `name` is not one of the kit's agents. */
  portEnv?: string;
}

/** GET a path; resolves with status and parsed JSON body (or the text). */
async function httpGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** Starts an agent as a child process on a free loopback port, as `npm start -w agents/<name>` would, and waits for it. */
export async function startAgent(name: AgentName | string, options: StartAgentOptions = {}): Promise<RunningAgent> {
  const root = repoRoot();
  const argv = options.entry ? [options.entry] : agentCommand(root, name);
  const entry = argv[argv.length - 1] ?? '';
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` first`);
  const host = '127.0.0.1';
  const portEnv = options.portEnv ?? (name in AGENT_PORTS ? AGENT_PORTS[name as AgentName].env : 'PORT');
  const probe = options.awaitReady === false ? '/healthz' : '/readyz';
  // A free port found here may be taken by another test's process before the agent binds it: the agent then exits
  // with EADDRINUSE while the other process answers the probe. So the probe counts only once this very process has
  // logged that it listens there, and a lost port is retried on another one (unless the caller chose the port).
  let port: number;
  let url: string;
  let child: ManagedProcess;
  for (let attempt = 1; ; attempt++) {
    port = options.port ?? (await freePort(host));
    url = `http://${host}:${port}`;
    const env = { ...process.env, ...AGENT_PROCESS_ENV, ...TEST_DEFAULTS, CONTAINER_IP_ADDR: host, [portEnv]: String(port), LOG_LEVEL: 'info', ...options.env };
    const started = startProcess(name, process.execPath, argv, { env, cwd: dirname(entry) });
    const listening = `Server listening at ${url}"`;
    // above info (a bench's quiet agent) the line is never written: the probe alone counts then
    const logsListening = ['trace', 'debug', 'info'].includes(env.LOG_LEVEL ?? 'info');
    try {
      await started.aliveWhile(
        waitFor(
          `${name} ${probe}`,
          async () => (!logsListening || started.output.includes(listening)) && (await httpGet(url, probe)).status === 200,
          options.timeoutMs ?? 15_000,
        ),
      );
      child = started;
      break;
    } catch (err) {
      await started.stop();
      if (options.port === undefined && attempt < 3 && started.output.includes('EADDRINUSE')) continue;
      throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${started.output}`, { cause: err });
    }
  }
  const get = (path: string, headers: Record<string, string> = {}) => httpGet(url, path, headers);
  return {
    name,
    port,
    host,
    url,
    process: child,
    get,
    logLines: () => jsonLines(child.output),
    stop: (graceMs?: number) => child.stop(graceMs),
  };
}

/** The JSON log lines of a process's output (pino writes one object per line; other lines are skipped). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/**
 * Several agents in one process (multi/, as `npm run agents` starts them), each on its own loopback port; resolves
 * once every one answers `/readyz` (or `/healthz` when awaitReady is false). Each entry shares the one process.
 */
export async function startAgentsInOneProcess(
  names: AgentName[],
  options: { env?: Record<string, string>; ports?: Map<AgentName, number>; awaitReady?: boolean; timeoutMs?: number; pollMs?: number } = {},
): Promise<RunningAgent[]> {
  const root = repoRoot();
  const argv = agentsInOneProcessCommand(root);
  const entry = argv[argv.length - 1] ?? '';
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run build\` first`);
  const host = '127.0.0.1';
  const env: NodeJS.ProcessEnv = { ...process.env, ...AGENT_PROCESS_ENV, ...TEST_DEFAULTS, CONTAINER_IP_ADDR: host, LOG_LEVEL: 'info', ...options.env };
  const ports = new Map<AgentName, number>();
  for (const name of names) {
    const port = options.ports?.get(name) ?? (await freePort(host));
    ports.set(name, port);
    env[ownPortVariable(name)] = String(port);
  }
  const child = startProcess('agents', process.execPath, [...argv, ...names], { env, cwd: dirname(entry) });
  const probe = options.awaitReady === false ? '/healthz' : '/readyz';
  const agents = names.map((name): RunningAgent => {
    const port = ports.get(name) ?? 0;
    const url = `http://${host}:${port}`;
    return {
      name,
      port,
      host,
      url,
      process: child,
      get: (path, headers = {}) => httpGet(url, path, headers),
      logLines: () => jsonLines(child.output).filter((line) => line['name'] === name),
      stop: (graceMs?: number) => child.stop(graceMs),
    };
  });
  try {
    await child.aliveWhile(
      waitFor(
        'every agent of the process',
        async () => (await Promise.all(agents.map((a) => a.get(probe)))).every((r) => r.status === 200),
        options.timeoutMs ?? 20_000,
      ),
    );
  } catch (err) {
    await child.stop();
    throw new Error(`${(err as Error).message}\n--- agents output ---\n${child.output}`, { cause: err });
  }
  return agents;
}
