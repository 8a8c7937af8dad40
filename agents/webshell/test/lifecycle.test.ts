import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rawWebSocketClient, startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { alive, attachTerminal, createTerminal, rssMiB, TOKEN } from './helpers.js';

const home = mkdtempSync(join(tmpdir(), 'webshell-home-'));
let agent: RunningAgent | undefined;
const start = async (env: Record<string, string> = {}) =>
  (agent = await startAgent('webshell', { env: { AUTH_TOKEN: TOKEN, HOME: home, WEBSHELL_SHELL: '/bin/bash', ...env } }));

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Pids of the processes whose parent is pid. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('grace period', () => {
  it('kills a shell whose client left and did not come back within the grace period', async () => {
    const a = await start({ WEBSHELL_GRACE_MS: '600' });
    const pid = await createTerminal(a);
    const term = await attachTerminal(a, pid);
    term.ws.close();
    await sleep(300);
    expect(alive(pid)).toBe(true);
    await waitFor('shell killed', async () => !alive(pid), 3000);
    expect(await (await attachTerminal(a, pid)).closed).toEqual({ code: 4404, reason: 'Pid not found' });
  });

  it('keeps a shell whose client comes back within the grace period', async () => {
    const a = await start({ WEBSHELL_GRACE_MS: '1500' });
    const pid = await createTerminal(a);
    (await attachTerminal(a, pid)).ws.close();
    await sleep(700);
    const back = await attachTerminal(a, pid);
    await sleep(1200);
    expect(alive(pid)).toBe(true);
    back.type('echo back-$((5*5))\r');
    await back.waitFor(/back-25/);
  });

  it('reaps a terminal nobody ever attached to', async () => {
    const a = await start({ WEBSHELL_GRACE_MS: '500' });
    const pid = await createTerminal(a);
    await waitFor('never-attached shell killed', async () => !alive(pid), 3000);
  });
});

describe('flow control', () => {
  it('pauses the pty for a client that does not read: `yes` runs and the agent memory stays flat', async () => {
    const a = await start({ WEBSHELL_HIGH_WATER_BYTES: '262144', WEBSHELL_LOW_WATER_BYTES: '65536' });
    const pid = await createTerminal(a);
    const typist = await attachTerminal(a, pid);
    typist.type('yes flow-control-test-line\r');
    await typist.waitFor(/flow-control-test-line/);
    // a client that never reads takes the terminal over
    const stalled = await rawWebSocketClient(a.port, `/terminals/${pid}?${TOKEN}`);
    stalled.socket.pause();
    await typist.closed;
    await sleep(1500);
    const samples: number[] = [];
    for (let i = 0; i < 6; i++) {
      samples.push(rssMiB(a.process.pid));
      await sleep(500);
    }
    const yes = childrenOf(pid)[0];
    expect(yes, 'yes is running under the shell').toBeDefined();
    // paused: yes is blocked writing to the pty, not spinning
    const state = readFileSync(`/proc/${yes}/stat`, 'utf8').split(') ')[1]?.[0];
    expect(state).toBe('S');
    expect(Math.max(...samples) - Math.min(...samples)).toBeLessThan(20);
    expect(Math.max(...samples)).toBeLessThan(200);
    stalled.socket.destroy();
  });
});

describe('shutdown', () => {
  it('kills every shell and their children on SIGTERM, closes clients with 1001, exits 0', async () => {
    const a = await start();
    const pids = [await createTerminal(a), await createTerminal(a), await createTerminal(a)];
    const term = await attachTerminal(a, pids[0]!);
    term.type('sleep 1000\r');
    await waitFor('sleep started', async () => childrenOf(pids[0]!).length > 0);
    const sleeper = childrenOf(pids[0]!)[0]!;
    const exit = await a.stop();
    agent = undefined;
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await term.closed).code).toBe(1001);
    for (const pid of [...pids, sleeper]) await waitFor(`process ${pid} gone`, async () => !alive(pid), 3000);
  });
});
