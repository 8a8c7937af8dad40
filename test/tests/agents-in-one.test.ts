import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AGENT_PORTS, ownPortVariable, type AgentName } from '@desktop-agents/kit';
import { agentsInOneProcessCommand, freePort, makeRunDir, repoRoot, startProcess, waitFor, type ManagedProcess } from '@desktop-agents/tools/harness';
import { componentsEnv, startComponents, type PodComponents } from '@desktop-agents/tools/pod';

// npm run agents: any set of agents in one Node process, each on its own port with its own probes and logger name,
// the bus reached in-process, one shutdown path.
const command = agentsInOneProcessCommand(repoRoot());
const names = Object.keys(AGENT_PORTS) as AgentName[];
const token = 'agents-in-one-token-0001';
let components: PodComponents;
let run: { dir: string; remove: () => Promise<void> };
const ports = new Map<AgentName, number>();

/** The env of the process: the pod's settings and every agent's own port variable. */
function podEnv(): Record<string, string> {
  const env: Record<string, string> = {
    ...process.env,
    AUTH_TOKEN: token,
    BROADCAST_COOKIE: 'agents-in-one-cookie',
    CONTAINER_IP_ADDR: '127.0.0.1',
    HOME: join(run.dir, 'home'),
    SPAWNER_PID_FILE: join(run.dir, 'spawner.pid'),
    LOG_LEVEL: 'info',
    ...componentsEnv(components),
  };
  for (const name of names) env[ownPortVariable(name)] = String(ports.get(name));
  return env;
}

const url = (name: AgentName) => `http://127.0.0.1:${ports.get(name)}`;
const ready = async (name: AgentName) => (await fetch(`${url(name)}/readyz`).catch(() => undefined))?.status === 200;

/** TCP connections a process has open to this port as a client (its sockets' inodes matched in /proc/net/tcp). */
function clientConnections(pid: number, port: number): number {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return match?.[1] ? [match[1]] : [];
      } catch {
        return [];
      }
    }),
  );
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      // remote address is field 2 ("0100007F:7430"), the socket's inode field 9
      return fields[2]?.endsWith(`:${hex}`) && inodes.has(fields[9] ?? '');
    }).length;
}

beforeAll(async () => {
  components = await startComponents();
  expect(components.problems).toEqual([]);
  run = await makeRunDir('agents-in-one');
  await mkdir(join(run.dir, 'home'));
  for (const name of names) ports.set(name, await freePort());
});
afterAll(async () => {
  await components?.stop();
  await run?.remove();
});

describe('all six agents in one process (npm run agents)', () => {
  let agents: ManagedProcess;

  beforeAll(async () => {
    agents = startProcess('agents', process.execPath, command, { env: podEnv() });
    await agents.aliveWhile(waitFor('every agent ready', async () => (await Promise.all(names.map(ready))).every(Boolean), 20_000, 100));
  });
  afterAll(async () => {
    await agents?.stop();
  });

  it('answers /healthz and /readyz of each agent on its own port, and logs under each agent name', async () => {
    for (const name of names) {
      expect((await fetch(`${url(name)}/healthz`)).status, name).toBe(200);
      expect(agents.output, name).toContain(`"name":"${name}"`);
      expect(agents.output).toContain(`Server listening at ${url(name)}`);
    }
  });

  it('connects its agents to the bus in-process: counted as locals, no loopback socket, their events reach browsers', async () => {
    const stats = (await (await fetch(`${url('broadcast')}/stats`, { headers: { authorization: `Bearer ${token}` } })).json()) as { locals: number };
    expect(stats.locals).toBeGreaterThanOrEqual(3);
    expect(clientConnections(agents.pid, ports.get('broadcast') ?? 0)).toBe(0);
    const browser = new WebSocket(`ws://127.0.0.1:${ports.get('broadcast')}/?jwt_token=${token}`);
    const events: string[] = [];
    browser.on('message', (data) => events.push(String(data)));
    await new Promise((resolve, reject) => browser.once('open', resolve).once('error', reject));
    try {
      const reply = await fetch(`${url('spawner')}/spawner/broadcastwindowslist`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(reply.status).toBe(200);
      await waitFor('window.list from the in-process spawner', async () => events.some((e) => e.includes('"window.list"')), 10_000);
      expect(clientConnections(agents.pid, ports.get('broadcast') ?? 0)).toBe(0);
    } finally {
      browser.close();
    }
  });

  it('stops every agent on SIGTERM, exit 0, no port left open', async () => {
    const exit = await agents.stop(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const name of names) await expect(fetch(`${url(name)}/healthz`), name).rejects.toThrow();
  });
});

describe('npm run agents with a named set', () => {
  it('starts only the agents named (no bus in this process: theirs keep retrying its WebSocket)', async () => {
    const agents = startProcess('agents', process.execPath, [...command, 'filer', 'printerfile'], { env: podEnv() });
    try {
      await agents.aliveWhile(waitFor('filer and printerfile ready', async () => (await ready('filer')) && (await ready('printerfile')), 15_000, 100));
      await expect(fetch(`${url('broadcast')}/healthz`)).rejects.toThrow();
      expect(agents.output).not.toContain('"name":"spawner"');
    } finally {
      expect(await agents.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('stops with a log line naming an agent that cannot start, and closes the ones already started', async () => {
    const agents = startProcess('agents', process.execPath, [...command, 'broadcast', 'spawner'], {
      env: { ...podEnv(), SPAWNER_PID_FILE: '/dev/null/spawner.pid' },
    });
    const exit = await agents.exited;
    expect(exit.code).toBe(1);
    const fatal = agents.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; agent?: string; name?: string })
      .find((line) => line.level === 60);
    expect(fatal).toMatchObject({ msg: 'cannot start', agent: 'spawner', name: 'spawner' });
  });

  it('refuses an unknown agent name with the list of agents', async () => {
    const agents = startProcess('agents', process.execPath, [...command, 'broadcast', 'nope'], { env: podEnv() });
    expect((await agents.exited).code).toBe(2);
    expect(agents.output).toContain('unknown agent nope; the agents are: spawner broadcast webshell filer printerfile sound');
  });
});
