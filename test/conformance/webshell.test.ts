// ../shared/spec/webshell.md as black-box tests against the built agent, in abcdesktop mode and token mode.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

describe.each(MODES)('webshell in $name mode', (mode) => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent('webshell', { env: { ...mode.env, WEBSHELL_SHELL: '/bin/sh' } });
  });
  afterAll(async () => agent?.stop());

  const post = (path: string) => call(agent.url, 'POST', path, { headers: mode.headers });

  it('creates a terminal: the reply is the pid as a bare JSON number', async () => {
    const res = await post('/terminals?cols=80&rows=24');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Number.isInteger(res.body)).toBe(true);
  });

  it('answers one error per field, cols before rows, values as received', async () => {
    expect(await post('/terminals')).toMatchObject({
      status: 422,
      body: {
        errors: [
          { location: 'query', param: 'cols', msg: 'No cols provided' },
          { location: 'query', param: 'rows', msg: 'No rows provided' },
        ],
      },
    });
    expect((await post('/terminals?cols=test')).body).toEqual({
      errors: [
        { location: 'query', param: 'cols', value: 'test', msg: 'Cols must be a number' },
        { location: 'query', param: 'rows', msg: 'No rows provided' },
      ],
    });
    expect((await post('/terminals?rows=x&cols=y')).body).toEqual({
      errors: [
        { location: 'query', param: 'cols', value: 'y', msg: 'Cols must be a number' },
        { location: 'query', param: 'rows', value: 'x', msg: 'Rows must be a number' },
      ],
    });
  });

  it('resizes: ok, validation before the look-up (422 with both messages even for an unknown pid), then 404, 422 for a non-numeric pid', async () => {
    const pid = (await post('/terminals?cols=80&rows=24')).body as number;
    expect(await post(`/terminals/${pid}/size?cols=100&rows=30`)).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
    const invalid = await post('/terminals/999999/size');
    expect(invalid.status).toBe(422);
    expect(invalid.body).toEqual({
      errors: [
        { location: 'query', param: 'cols', msg: 'No cols provided' },
        { location: 'query', param: 'rows', msg: 'No rows provided' },
      ],
    });
    expect(await post('/terminals/999999/size?cols=1&rows=1')).toMatchObject({ status: 404, body: { code: 404, data: 'Pid not found' } });
    const bad = await post('/terminals/abc/size?cols=1&rows=1');
    expect(bad).toMatchObject({ status: 422, body: { errors: [{ location: 'params', param: 'pid', value: 'abc', msg: 'Pid must be a number' }] } });
  });

  it('attaches: output made before the attach first, keystrokes to the pty, shell exit closes the socket', async () => {
    const pid = (await post('/terminals?cols=80&rows=24')).body as number;
    const query = mode.wsQuery(true);
    const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/terminals/${pid}${query ? `?${query}` : ''}`);
    let text = '';
    ws.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      text += data.toString();
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('echo conformance-$((6*7))\r');
    const deadline = Date.now() + 5000;
    while (!text.includes('conformance-42') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(text).toContain('conformance-42');
    ws.send('exit\r');
    expect(await closed).toBe(1000);
  });

  it('closes an attach to an unknown pid with a code and a reason', async () => {
    const query = mode.wsQuery(true);
    const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/terminals/999999${query ? `?${query}` : ''}`);
    ws.on('error', () => {});
    const [code, reason] = await new Promise<[number, string]>((resolve) => ws.once('close', (c, r) => resolve([c, r.toString()])));
    expect([code, reason]).toEqual([4404, 'Pid not found']);
  });

  it('answers JSON for unknown routes', async () => {
    const res = await call(agent.url, 'GET', '/nothing-here', { headers: mode.headers });
    expect(res).toMatchObject({ status: 404, body: { code: 404 } });
  });
});

describe('webshell: token mode needs the token', () => {
  const token = MODES.find((m) => m.name === 'token')!;
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent('webshell', { env: { ...token.env, WEBSHELL_SHELL: '/bin/sh' } });
  });
  afterAll(async () => agent?.stop());

  it('on create, resize and attach', async () => {
    expect((await call(agent.url, 'POST', '/terminals?cols=80&rows=24')).status).toBe(401);
    expect((await call(agent.url, 'POST', '/terminals/1/size?cols=80&rows=24')).status).toBe(401);
    const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/terminals/1`);
    ws.on('error', () => {});
    const [code] = await new Promise<[number]>((resolve) => ws.once('close', (c) => resolve([c])));
    expect(code).toBe(1008);
  });
});
