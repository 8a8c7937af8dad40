import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AGENT_PROCESS_ENV,
  agentCommand,
  freePort,
  processAlive as alive,
  repoRoot,
  startAgent,
  startXvfb,
  waitFor,
  type RunningAgent,
  type XServer,
} from '@desktop-agents/tools/harness';

const TOKEN = 'sample-token-0123456789';
const entry = join(repoRoot(), 'test', 'fixtures', 'sample-agent.mjs');
// the sample agent borrows the spawner's port variable
const portEnv = 'SPAWNER_SERVICE_TCP_PORT';

describe('a server built with the kit, run as a process', () => {
  let x: XServer;
  let agent: RunningAgent;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    x = await startXvfb();
    agent = await startAgent('sample', { entry, env: { AUTH_TOKEN: TOKEN, DISPLAY: x.display }, portEnv });
  });
  afterAll(async () => {
    await agent?.stop();
    await x?.stop();
  });

  it('answers /healthz and /readyz without credentials', async () => {
    expect(await agent.get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await agent.get('/readyz')).toEqual({ status: 200, body: { ready: true } });
  });

  it('rejects a missing or wrong token with 401 and a JSON body', async () => {
    const missing = await fetch(`${agent.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a"}' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ code: 401, data: 'Unauthorized' });
    const wrong = await fetch(`${agent.url}/echo`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope-nope-nope-nope', 'content-type': 'application/json' },
      body: '{"name":"a"}',
    });
    expect(wrong.status).toBe(401);
  });

  it('accepts the token as the web UI sends it (ABCAuthorization header)', async () => {
    const res = await fetch(`${agent.url}/echo`, {
      method: 'POST',
      headers: { abcauthorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"name":"a"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 200, data: 'a' });
  });

  it('rejects a bad body with 422 in the abcdesktop shape', async () => {
    const post = (body: string) => fetch(`${agent.url}/echo`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    const missing = await post('{}');
    expect(missing.status).toBe(422);
    expect(await missing.json()).toEqual({ errors: [{ location: 'body', param: 'name', msg: 'No name provided' }] });
    const wrongType = await post('{"name":42}');
    expect(wrongType.status).toBe(422);
    expect(await wrongType.json()).toEqual({ errors: [{ location: 'body', param: 'name', value: 42, msg: 'Name must be a string' }] });
    const badJson = await post('{"name":');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 400 });
  });

  it('answers unknown routes with a JSON 404', async () => {
    expect(await agent.get('/nothing-here', auth)).toEqual({ status: 404, body: { code: 404, data: 'Not found' } });
  });

  it('never logs the token', () => {
    expect(agent.process.output).not.toContain(TOKEN);
    expect(agent.logLines().length).toBeGreaterThan(0);
  });

  it('reports not ready while its X display is gone, and ready again when it is back', async () => {
    await x.stop();
    const down = await agent.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ready: false });
    expect(await agent.get('/healthz')).toMatchObject({ status: 200 });
    x = await startXvfb();
    // the agent reads DISPLAY once; a new X server gets a new number, so readiness stays false here: restart it on it
    await agent.stop();
    agent = await startAgent('sample', { entry, portEnv, env: { AUTH_TOKEN: TOKEN, DISPLAY: x.display } });
    expect(await agent.get('/readyz')).toEqual({ status: 200, body: { ready: true } });
  });

  it('exits 0 on SIGTERM and kills the children it started', async () => {
    const res = await fetch(`${agent.url}/child`, { method: 'POST', headers: auth });
    const { pid } = (await res.json()) as { pid: number };
    expect(alive(pid)).toBe(true);
    const exit = await agent.stop(8000);
    expect(exit).toEqual({ code: 0, signal: null });
    await waitFor('child gone', async () => !alive(pid), 3000);
    expect(agent.logLines().some((l) => l['msg'] === 'closed')).toBe(true);
  });

  it('refuses to start without credentials configured in token mode, exit 1 and a clear message', async () => {
    await expect(startAgent('sample', { entry, portEnv, env: { AUTH_TOKEN: '', DISPLAY: x.display }, timeoutMs: 5000 })).rejects.toThrow(/AUTH_TOKEN/);
  });
});

describe('a deployed agent (NODE_ENV=production: ajv is loaded by the first validated request, not at start)', () => {
  it('answers the first requests, sent together before ajv is loaded, exactly as it answers later ones', async () => {
    const x = await startXvfb();
    const agent = await startAgent('sample', { entry, env: { AUTH_TOKEN: TOKEN, DISPLAY: x.display, NODE_ENV: 'production' }, portEnv });
    try {
      const post = async (body: string) => {
        const res = await fetch(`${agent.url}/echo`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body,
        });
        return [res.status, await res.json()] as const;
      };
      const expected = [
        [422, { errors: [{ location: 'body', param: 'name', msg: 'No name provided' }] }],
        [422, { errors: [{ location: 'body', param: 'name', value: 42, msg: 'Name must be a string' }] }],
        [200, { code: 200, data: 'a' }],
      ];
      const bodies = ['{}', '{"name":42}', '{"name":"a"}'];
      expect(await Promise.all(bodies.map(post))).toEqual(expected);
      expect(await Promise.all(bodies.map(post))).toEqual(expected);
    } finally {
      await agent.stop();
      await x.stop();
    }
  });
});

describe('an agent whose log reader goes away', () => {
  it('keeps serving with its standard output broken (EPIPE), and still exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, agentCommand(repoRoot(), 'broadcast'), {
      env: { ...process.env, ...AGENT_PROCESS_ENV, AUTH_TOKEN: TOKEN, BROADCAST_SERVICE_TCP_PORT: String(port), CONTAINER_IP_ADDR: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the agent ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 15_000, 20);
      // the reader goes away, as a log shipper that died would: every later line meets a broken pipe
      child.stdout.destroy();
      for (let n = 0; n < 5; n++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(5000).then(() => 'still running after 5 s')]);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
