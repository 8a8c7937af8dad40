import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AGENT_PORTS, type AgentName } from '@desktop-agents/kit';
import { freePort, makeRunDir, repoRoot, startAgent, startAgentsInOneProcess, type RunningAgent } from '../harness/index.js';
import { componentsEnv, startComponents, type PodComponents } from './components.js';

export interface PodAgent {
  name: string;
  port: number;
  running: RunningAgent | undefined;
  /** Why it did not start, when it did not. */
  failure: string | undefined;
}

export interface Pod {
  token: string;
  cookie: string;
  home: string;
  dir: string;
  components: PodComponents;
  agents: PodAgent[];
  /** The env every agent got. */
  env: Record<string, string>;
  /** Starts an agent again on its port (after a crash, or a kill in a test). */
  restartAgent(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The sound agent's abcdesktop 4.x ports (speaker, microphone), besides its own. */
const SOUND_4X_PORTS = { SOUND_SPEAKER_TCP_PORT: 29788, SOUND_MICROPHONE_TCP_PORT: 29789 } as const;

async function portFor(name: string, preferDefaults: boolean, wanted = name in AGENT_PORTS ? AGENT_PORTS[name as AgentName].port : 0): Promise<number> {
  if (!preferDefaults || wanted === 0) return freePort();
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

export function agentNames(root = repoRoot()): string[] {
  const dir = join(root, 'agents');
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'package.json')));
  // the bus first: the others publish on it
  return names.sort((a, b) => (a === 'broadcast' ? -1 : b === 'broadcast' ? 1 : a.localeCompare(b)));
}

/**
 * A whole pod on this machine: Xvfb + openbox, PulseAudio and cupsd on private sockets, then every agent in agents/
 * (the bus first) with the pod's shared settings. `preferDefaults` uses the abcdesktop ports when they are free;
 * `oneProcess` runs the agents in one process (npm run agents) instead of one each.
 */
export async function startPod(options: { preferDefaults?: boolean; env?: Record<string, string>; oneProcess?: boolean } = {}): Promise<Pod> {
  const token = process.env['AUTH_TOKEN'] ?? randomBytes(24).toString('base64url');
  const cookie = process.env['BROADCAST_COOKIE'] ?? randomBytes(16).toString('base64url');
  const run = await makeRunDir('pod');
  const home = join(run.dir, 'home');
  await mkdir(home, { recursive: true });
  const components = await startComponents();
  const names = agentNames();
  const ports = new Map<string, number>();
  for (const name of names) ports.set(name, await portFor(name, options.preferDefaults ?? false));
  const env: Record<string, string> = {
    AUTH_TOKEN: token,
    BROADCAST_COOKIE: cookie,
    HOME: home,
    BROADCAST_SERVICE_TCP_PORT: String(ports.get('broadcast') ?? AGENT_PORTS.broadcast.port),
    SPAWNER_PID_FILE: join(run.dir, 'spawner.pid'),
    ...Object.fromEntries(
      await Promise.all(
        Object.entries(SOUND_4X_PORTS).map(async ([variable, port]) => [variable, String(await portFor(variable, options.preferDefaults ?? false, port))]),
      ),
    ),
    ...componentsEnv(components),
    ...options.env,
  };
  const agents: PodAgent[] = [];
  if (options.oneProcess) {
    // every agent in one process (npm run agents): the bus in-process, each agent on its port
    const known = names.filter((n): n is AgentName => n in AGENT_PORTS);
    const running = await startAgentsInOneProcess(known, { env, ports: new Map(known.map((n) => [n, ports.get(n) ?? 0])), awaitReady: false });
    for (const agent of running) agents.push({ name: agent.name, port: agent.port, running: agent, failure: undefined });
  }
  for (const name of options.oneProcess ? [] : names) {
    const port = ports.get(name) ?? (await freePort());
    try {
      agents.push({ name, port, running: await startAgent(name, { env, port, awaitReady: false }), failure: undefined });
    } catch (err) {
      agents.push({ name, port, running: undefined, failure: (err as Error).message.split('\n')[0] });
    }
  }
  return {
    token,
    cookie,
    home,
    dir: run.dir,
    components,
    agents,
    env,
    async restartAgent(name) {
      const agent = agents.find((a) => a.name === name);
      if (!agent) throw new Error(`no agent ${name}`);
      await agent.running?.stop();
      agent.running = await startAgent(name, { env, port: agent.port, awaitReady: false });
      agent.failure = undefined;
    },
    async stop() {
      await Promise.all(agents.map((a) => a.running?.stop()));
      await components.stop();
      await run.remove();
    },
  };
}
