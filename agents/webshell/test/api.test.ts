import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { alive, attachTerminal, auth, createTerminal, TOKEN } from './helpers.js';

let agent: RunningAgent;
const home = mkdtempSync(join(tmpdir(), 'webshell-home-'));

beforeAll(async () => {
  agent = await startAgent('webshell', {
    env: { AUTH_TOKEN: TOKEN, HOME: home, WEBSHELL_SHELL: '/bin/bash', WEBSHELL_MAX_TERMINALS: '4', WEBSHELL_MAX_FRAME_BYTES: '4096' },
  });
});
afterAll(async () => {
  await agent?.stop();
  rmSync(home, { recursive: true, force: true });
});

const post = (path: string, headers: Record<string, string> = auth) => fetch(`${agent.url}${path}`, { method: 'POST', headers });

describe('create and resize', () => {
  it('creates a terminal and answers its pid as a bare JSON number', async () => {
    const res = await post('/terminals?cols=80&rows=24');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const pid = (await res.json()) as number;
    expect(Number.isInteger(pid)).toBe(true);
    expect(alive(pid)).toBe(true);
  });

  it('answers 422 with the abcdesktop messages for missing or bad sizes', async () => {
    const cases: Array<[string, unknown]> = [
      ['/terminals?rows=24', [{ location: 'query', param: 'cols', msg: 'No cols provided' }]],
      ['/terminals?cols=abc&rows=24', [{ location: 'query', param: 'cols', value: 'abc', msg: 'Cols must be a number' }]],
      ['/terminals?cols=80', [{ location: 'query', param: 'rows', msg: 'No rows provided' }]],
      ['/terminals?cols=80&rows=x', [{ location: 'query', param: 'rows', value: 'x', msg: 'Rows must be a number' }]],
      ['/terminals?cols=0&rows=24', [{ location: 'query', param: 'cols', value: '0', msg: 'Cols must be between 1 and 1000' }]],
      ['/terminals?cols=80&rows=100000', [{ location: 'query', param: 'rows', value: '100000', msg: 'Rows must be between 1 and 500' }]],
    ];
    for (const [path, errors] of cases) {
      const res = await post(path);
      expect(res.status, path).toBe(422);
      expect(await res.json(), path).toEqual({ errors });
    }
  });

  it('resizes: the shell sees the new width; unknown and bad pids are refused', async () => {
    const pid = await createTerminal(agent);
    const term = await attachTerminal(agent, pid);
    const res = await post(`/terminals/${pid}/size?cols=123&rows=40`);
    expect(await res.json()).toEqual({ code: 200, data: 'ok' });
    term.type('tput cols; tput lines\r');
    await term.waitFor(/123\r?\n40/);
    term.ws.close();
    const unknown = await post('/terminals/999999/size?cols=80&rows=24');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ code: 404, data: 'Pid not found' });
    const bad = await post('/terminals/abc/size?cols=80&rows=24');
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ errors: [{ location: 'params', param: 'pid', value: 'abc', msg: 'Pid must be a number' }] });
  });

  it('limits the number of terminals', async () => {
    await waitFor('room', async () => true);
    const results: number[] = [];
    for (let i = 0; i < 5; i++) results.push((await post('/terminals?cols=80&rows=24')).status);
    expect(results).toContain(429);
    expect(results.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
  });
});

describe('attach', () => {
  it('delivers output made before the first attach, then echoes a round trip', async () => {
    await agent.stop();
    agent = await startAgent('webshell', { env: { AUTH_TOKEN: TOKEN, HOME: home, WEBSHELL_SHELL: '/bin/bash', WEBSHELL_MAX_FRAME_BYTES: '4096' } });
    const pid = await createTerminal(agent);
    await new Promise((r) => setTimeout(r, 500));
    const term = await attachTerminal(agent, pid);
    await term.waitFor(/[$#] $/, 3000);
    const from = term.output().length;
    term.type('echo round-$((6*7))-trip\r');
    expect(await term.waitFor(/round-42-trip/, 5000, from)).toBe('round-42-trip');
    term.ws.close();
  });

  it('runs the shell in $HOME with COLORTERM=truecolor and without the agent secrets', async () => {
    const term = await attachTerminal(agent, await createTerminal(agent));
    term.type('echo "cwd=$PWD ct=$COLORTERM term=$TERM tok=${AUTH_TOKEN:-none}"\r');
    await term.waitFor(new RegExp(`cwd=${home} ct=truecolor term=xterm-256color tok=none`));
    term.ws.close();
  });

  it('replays the scrollback to a new attach after a drop, then goes on live', async () => {
    const pid = await createTerminal(agent);
    const first = await attachTerminal(agent, pid);
    first.type('echo before-$((1+1))-drop\r');
    await first.waitFor(/before-2-drop/);
    first.ws.terminate();
    await first.closed;
    const second = await attachTerminal(agent, pid);
    await second.waitFor(/before-2-drop/, 3000);
    const from = second.output().length;
    second.type('echo after-$((2+2))\r');
    await second.waitFor(/after-4/, 3000, from);
    second.ws.close();
  });

  it('hands the terminal to a second attach and closes the first with 4000', async () => {
    const pid = await createTerminal(agent);
    const first = await attachTerminal(agent, pid);
    const second = await attachTerminal(agent, pid);
    expect(await first.closed).toEqual({ code: 4000, reason: 'attached elsewhere' });
    second.type('echo still-$((3*3))\r');
    await second.waitFor(/still-9/);
    expect(alive(pid)).toBe(true);
    second.ws.close();
  });

  it('closes with the exit code in the reason when the shell exits', async () => {
    const pid = await createTerminal(agent);
    const term = await attachTerminal(agent, pid);
    term.type('exit 3\r');
    expect(await term.closed).toEqual({ code: 1000, reason: 'exit 3' });
    await waitFor('shell gone', async () => !alive(pid));
  });

  it('closes an attach to an unknown pid with 4404, to a non-terminal path with 1008', async () => {
    expect(await (await attachTerminal(agent, 999999)).closed).toEqual({ code: 4404, reason: 'Pid not found' });
    expect((await (await attachTerminal(agent, 'abc')).closed).code).toBe(1008);
  });

  it('refuses attach without the token (1008) and create without it (401)', async () => {
    const pid = await createTerminal(agent);
    expect(await (await attachTerminal(agent, pid, '')).closed).toEqual({ code: 1008, reason: 'unauthorized' });
    expect(await (await attachTerminal(agent, pid, 'not-the-token-at-all')).closed).toEqual({ code: 1008, reason: 'unauthorized' });
    expect((await post('/terminals?cols=80&rows=24', {})).status).toBe(401);
  });

  it('closes a client sending a frame over the limit with 1009 and keeps the shell', async () => {
    const pid = await createTerminal(agent);
    const term = await attachTerminal(agent, pid);
    term.type('x'.repeat(5000));
    expect((await term.closed).code).toBe(1009);
    expect(alive(pid)).toBe(true);
  });

  it('serves the terminal page and its bundled xterm.js without credentials', async () => {
    const page = await fetch(`${agent.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('vendor/xterm.js');
    const lib = await fetch(`${agent.url}/vendor/xterm.js`);
    expect(lib.headers.get('content-type')).toMatch(/javascript/);
    expect((await lib.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${agent.url}/nothing`, { headers: auth })).status).toBe(404);
  });

  it('never logs the token', () => {
    expect(agent.process.output).not.toContain(TOKEN);
  });
});
