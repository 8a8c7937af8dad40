// ../shared/spec/spawner.md as black-box tests against the built agent on a real X display, in abcdesktop mode and
// token mode: reply shapes, the 422 texts (one per field, in order, values as received) and the default launch map.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunDir, startAgent, startXvfb, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

let x: XServer;
beforeAll(async () => {
  x = await startXvfb({ windowManager: true });
});
afterAll(async () => x?.stop());

async function spawnerWith(env: Record<string, string>): Promise<{ agent: RunningAgent; home: string; done: () => Promise<void> }> {
  const run = await makeRunDir('conformance-spawner');
  const home = join(run.dir, 'home');
  await mkdir(home, { recursive: true });
  const agent = await startAgent('spawner', {
    env: {
      DISPLAY: x.display,
      HOME: home,
      SPAWNER_PID_FILE: join(run.dir, 'pid'),
      BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
      PULSE_SERVER: `unix:${join(run.dir, 'no-pulse')}`,
      SPAWNER_VERSION_FILE: join(run.dir, 'version.json'),
      ...env,
    },
  });
  return {
    agent,
    home,
    done: async () => {
      await agent.stop();
      await run.remove();
    },
  };
}

describe.each(MODES)('spawner in $name mode', (mode) => {
  let agent: RunningAgent;
  let home: string;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ agent, home, done } = await spawnerWith(mode.env));
  });
  afterAll(async () => done?.());

  const post = (route: string, json: unknown) => call(agent.url, 'POST', `/spawner/${route}`, { headers: mode.headers, json });
  const get = (route: string) => call(agent.url, 'GET', `/spawner/${route}`, { headers: mode.headers });
  const errors = async (route: string, json: unknown) => ((await post(route, json)).body as { errors: unknown[] }).errors;

  it('validates launch with the spec texts, command before args', async () => {
    expect(await errors('launch', {})).toEqual([{ location: 'body', param: 'command', msg: 'No command provided' }]);
    expect(await errors('launch', { command: 26 })).toEqual([{ location: 'body', param: 'command', value: 26, msg: 'Command must be a string' }]);
    expect(await errors('launch', { command: 'nope.Nope' })).toEqual([
      { location: 'body', param: 'command', value: 'nope.Nope', msg: 'Command must be a valid handled command' },
    ]);
    expect(await errors('launch', { command: 'xeyes.XEyes', args: null })).toEqual([{ location: 'body', param: 'args', value: null, msg: 'No args provided' }]);
    for (const args of ['x', [], [1], ['a', 2], {}]) {
      expect(await errors('launch', { command: 'xeyes.XEyes', args })).toEqual([
        { location: 'body', param: 'args', value: args, msg: 'Args must be an array of string not empty' },
      ]);
    }
    expect(await errors('launch', { args: 'x', command: 26 })).toEqual([
      { location: 'body', param: 'command', value: 26, msg: 'Command must be a string' },
      { location: 'body', param: 'args', value: 'x', msg: 'Args must be an array of string not empty' },
    ]);
  });

  it('launches xeyes.XEyes by default: { code: 200, data: { command, args }, proc: { pid } }', async () => {
    const res = await post('launch', { command: 'xeyes.XEyes' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 200, data: { command: '/usr/bin/xeyes', args: [] }, proc: { pid: expect.any(Number) } });
    const pid = (res.body as { proc: { pid: number } }).proc.pid;
    expect(await post('kill', { pid })).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
  });

  it('validates windowsid on the array', async () => {
    expect(await errors('activatewindows', {})).toEqual([{ location: 'body', param: 'windowsid', msg: 'No windowsid provided' }]);
    expect(await errors('closewindows', { windowsid: [] })).toEqual([
      { location: 'body', param: 'windowsid', value: [], msg: 'Windowsid must be an array of windowid not empty' },
    ]);
    expect(await errors('activatewindows', { windowsid: [1, 'x'] })).toEqual([
      { location: 'body', param: 'windowsid', value: [1, 'x'], msg: 'All windowsid must be number' },
    ]);
    expect(await errors('activatewindows', { windowsid: [12345] })).toEqual([
      { location: 'body', param: 'windowsid', value: [12345], msg: 'Unknow window_id [12345]' },
    ]);
    expect(await get('getwindowslist')).toMatchObject({ status: 200, body: { code: 200, data: expect.any(Array) } });
  });

  it('validates colors as the original: hexa first, then the # + 6 or 8 digits pattern', async () => {
    expect(await errors('setBackgroundColor', {})).toEqual([{ location: 'body', param: 'color', msg: 'No color provided' }]);
    expect(await errors('setBackgroundColor', { color: 12 })).toEqual([{ location: 'body', param: 'color', value: 12, msg: 'Color must be a string' }]);
    expect(await errors('setBackgroundColor', { color: 'blue' })).toEqual([
      { location: 'body', param: 'color', value: 'blue', msg: 'Color must be a string hexa' },
    ]);
    expect(await errors('setBackgroundColor', { color: '000000' })).toEqual([
      { location: 'body', param: 'color', value: '000000', msg: 'Bad color hexa pattern' },
    ]);
    expect(await errors('setBackgroundColor', { color: '#abc' })).toEqual([{ location: 'body', param: 'color', value: '#abc', msg: 'Bad color hexa pattern' }]);
    expect(await post('setBackgroundColor', { color: '#336699' })).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
  });

  it('keeps desktop settings: key before value, query texts, a key escaping the store is 404 Not found', async () => {
    expect(await errors('setDesktop', {})).toEqual([
      { location: 'body', param: 'key', msg: 'No key provided' },
      { location: 'body', param: 'value', msg: 'No value provided' },
    ]);
    expect(await errors('setDesktop', { value: 3, key: 4 })).toEqual([
      { location: 'body', param: 'key', value: 4, msg: 'Key must be a string' },
      { location: 'body', param: 'value', value: 3, msg: 'Value must be a string' },
    ]);
    expect(await post('setDesktop', { key: 'backgroundType', value: 'color' })).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
    expect(await get('getDesktop?key=backgroundType')).toMatchObject({ status: 200, body: { code: 200, data: 'color' } });
    expect(await get('getDesktop?key=missingKey')).toMatchObject({ status: 404, body: { code: 404, data: 'Not found' } });
    expect(await get('getDesktop?key=..%2F.bashrc')).toMatchObject({ status: 404, body: { code: 404, data: 'Not found' } });
    expect(await post('setDesktop', { key: '../.store2/x', value: 'v' })).toMatchObject({ status: 404, body: { code: 404, data: 'Not found' } });
    expect(((await get('getDesktop?key=')).body as { errors: unknown }).errors).toEqual([
      { location: 'query', param: 'key', value: '', msg: 'Key must not be empty' },
    ]);
    expect(((await get('getDesktop')).body as { errors: unknown }).errors).toEqual([{ location: 'query', param: 'key', msg: 'No key provided' }]);
  });

  it('answers the info routes in their bare shapes', async () => {
    const about = await get('about');
    expect(about.status).toBe(200);
    expect(about.body).toMatchObject({ hostname: expect.any(String), platform: 'linux' });
    expect(about.body).not.toHaveProperty('clientipaddr');
    const forwarded = await call(agent.url, 'GET', '/spawner/about', { headers: { ...mode.headers, 'x-forwarded-for': '10.2.3.4, 10.0.0.1' } });
    expect(forwarded.body).toMatchObject({ clientipaddr: '10.2.3.4' });
    expect(await get('getenv')).toMatchObject({ status: 200, body: { env: expect.any(Object) } });
    expect(await get('getnetworkinterfaces')).toMatchObject({ status: 200, body: { networkInterfaces: expect.any(Object) } });
    expect(await get('getSettings')).toMatchObject({ status: 200, body: { code: 200, data: [] } });
    expect(await get('isPulseAvailable')).toEqual(expect.objectContaining({ status: 200, body: { status: 500, message: 'error' } }));
    expect(await get('version')).toMatchObject({ status: 404, body: { code: 404, data: 'Can not found version file' } });
    // the version file's JSON as it is: its own target and any other key, nothing added or renamed
    const file = { date: '2026-12-01', commit: 'abc1234', version: '4.1', target: 'oc.user.ubuntu', build: 7 };
    await writeFile(join(home, '..', 'version.json'), JSON.stringify(file));
    const version = await get('version');
    expect(version.status).toBe(200);
    expect(version.body).toEqual({ code: 200, data: file });
    await rm(join(home, '..', 'version.json'));
  });

  it('searches files: mime from the name, false when unknown; keywords and maxfile texts', async () => {
    await writeFile(join(home, 'report.pdf'), 'x');
    await writeFile(join(home, 'report.zzqq'), 'x');
    const res = await get('filesearch?keywords=report');
    expect(res.status).toBe(200);
    const found = (res.body as { data: Array<{ file: string; mime: string | false }> }).data;
    expect(found.find((f) => f.file.endsWith('report.pdf'))?.mime).toBe('application/pdf');
    expect(found.find((f) => f.file.endsWith('report.zzqq'))?.mime).toBe(false);
    expect(((await get('filesearch')).body as { errors: unknown }).errors).toEqual([{ location: 'query', param: 'keywords', msg: 'No keywords provided' }]);
    expect(((await get('filesearch?keywords=a&maxfile=0')).body as { errors: unknown }).errors).toEqual([
      { location: 'query', param: 'maxfile', value: '0', msg: 'Maxfile must be a strictly positive number' },
    ]);
  });

  it('validates the other bodies with the spec texts', async () => {
    expect(await errors('setBackgroundImage', {})).toEqual([{ location: 'body', param: 'imgName', msg: 'No imgName provided' }]);
    expect(await errors('setBackgroundImage', { imgName: 3 })).toEqual([{ location: 'body', param: 'imgName', value: 3, msg: 'imgName must be a string' }]);
    expect(await post('setBackgroundImage', { imgName: 'none.png' })).toMatchObject({ status: 404, body: { code: 404, data: 'Unknow image none.png' } });
    expect(await post('setDefaultImage', {})).toMatchObject({ status: 404, body: { code: 404, data: 'file not found' } });
    expect(await errors('generateDesktopFiles', {})).toEqual([
      { location: 'body', param: 'list', msg: 'No list provided' },
      { location: 'body', param: 'list', msg: 'List must be a non-empty array' },
    ]);
    expect(await errors('setAudioQuality', {})).toEqual([{ location: 'body', param: 'sink', msg: 'No sink provided' }]);
    expect(await errors('setAudioQuality', { sink: 1 })).toEqual([{ location: 'body', param: 'sink', value: 1, msg: 'Sink must be a string' }]);
    const put = async (json: unknown) =>
      ((await call(agent.url, 'PUT', '/spawner/configurePulse', { headers: mode.headers, json })).body as { errors: unknown }).errors;
    expect(await put({})).toEqual([
      { location: 'body', param: 'destinationIp', msg: 'No destinationIp provided' },
      { location: 'body', param: 'port', msg: 'No port provided' },
    ]);
    expect(await put({ port: 'x', destinationIp: 'host' })).toEqual([
      { location: 'body', param: 'destinationIp', value: 'host', msg: 'destinationIp must be an ipV4 address' },
      { location: 'body', param: 'port', value: 'x', msg: 'port must be a number' },
    ]);
    expect(((await get('getmimeforfile')).body as { errors: unknown }).errors).toEqual([{ location: 'query', param: 'filename', msg: 'No filename provided' }]);
    expect((await get('getmimeforfile?filename=a.pdf')).body).toBe('application/pdf');
  });
});

describe('spawner launch map in TARGET_MODE=hardening', () => {
  it('launches exactly one key: xeyes.XEyes, and not qterminal.qterminal', async () => {
    const { agent, done } = await spawnerWith({ AUTH_MODE: 'abcdesktop', TARGET_MODE: 'hardening' });
    try {
      expect((await call(agent.url, 'POST', '/spawner/launch', { json: { command: 'qterminal.qterminal' } })).body).toEqual({
        errors: [{ location: 'body', param: 'command', value: 'qterminal.qterminal', msg: 'Command must be a valid handled command' }],
      });
      const res = await call(agent.url, 'POST', '/spawner/launch', { json: { command: 'xeyes.XEyes' } });
      expect(res.status).toBe(200);
      await call(agent.url, 'POST', '/spawner/kill', { json: { pid: (res.body as { proc: { pid: number } }).proc.pid } });
    } finally {
      await done();
    }
  });
});
