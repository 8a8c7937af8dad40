import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
import { auth, file, TOKEN, upload, uploadedPath, url } from './helpers.js';

let agent: RunningAgent;
const home = mkdtempSync(join(tmpdir(), 'filer-home-'));

beforeAll(async () => {
  writeFileSync(join(home, 'hello.txt'), 'hello world\n');
  mkdirSync(join(home, 'docs'));
  for (const [i, name] of ['c.txt', 'a.txt', 'b.txt'].entries()) {
    writeFileSync(join(home, 'docs', name), name);
    utimesSync(join(home, 'docs', name), 1_700_000_000 + i * 100, 1_700_000_000 + i * 100);
  }
  agent = await startAgent('filer', { env: { AUTH_TOKEN: TOKEN, HOME: home } });
});
afterAll(async () => {
  await agent?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('download', () => {
  it('streams a file with its type, length and an attachment name', async () => {
    for (const path of ['~/hello.txt', 'hello.txt', join(home, 'hello.txt')]) {
      const res = await fetch(url(agent, '/filer', { file: path }), { headers: auth });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.headers.get('content-length')).toBe('12');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="hello.txt"');
      expect(await res.text()).toBe('hello world\n');
    }
  });

  it('answers a Range request with 206 and the slice, and 416 past the end', async () => {
    const res = await fetch(url(agent, '/filer', { file: '~/hello.txt' }), { headers: { ...auth, range: 'bytes=6-10' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 6-10/12');
    expect(await res.text()).toBe('world');
    const past = await fetch(url(agent, '/filer', { file: '~/hello.txt' }), { headers: { ...auth, range: 'bytes=100-200' } });
    expect(past.status).toBe(416);
  });

  it('names non-ASCII files with an RFC 5987 filename*', async () => {
    writeFileSync(join(home, 'résumé été.pdf'), '%PDF-1.4');
    const res = await fetch(url(agent, '/filer', { file: '~/résumé été.pdf' }), { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="r?sum? ?t?.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%C3%A9t%C3%A9.pdf`);
  });

  it('answers the spec errors: 404 missing, 400 outside home, 422 validation', async () => {
    const missing = await fetch(url(agent, '/filer', { file: '~/nope.txt' }), { headers: auth });
    expect([missing.status, await missing.json()]).toEqual([404, { code: 404, data: 'Not found' }]);
    const outside = await fetch(url(agent, '/filer', { file: '/etc/passwd' }), { headers: auth });
    expect([outside.status, await outside.json()]).toEqual([400, { code: 400, data: 'Path Server Error' }]);
    const none = await fetch(url(agent, '/filer'), { headers: auth });
    expect([none.status, await none.json()]).toEqual([422, { errors: [{ location: 'query', param: 'file', msg: 'No file provided' }] }]);
    const empty = await fetch(url(agent, '/filer', { file: '' }), { headers: auth });
    expect(await empty.json()).toEqual({ errors: [{ location: 'query', param: 'file', value: '', msg: 'file must not be empty' }] });
  });

  it('requires the token, and answers unknown routes in the spec shape', async () => {
    expect((await fetch(url(agent, '/filer', { file: '~/hello.txt' }))).status).toBe(401);
    const unknown = await fetch(`${agent.url}/filer/nothing`, { headers: auth });
    expect([unknown.status, await unknown.json()]).toEqual([404, { code: 404, data: 'Can not GET /nothing' }]);
  });

  it('serves the same routes under /printerfiler', async () => {
    const res = await fetch(url(agent, '/printerfiler', { file: '~/hello.txt' }), { headers: auth });
    expect(await res.text()).toBe('hello world\n');
  });
});

describe('list', () => {
  it('lists names oldest first, with or without the trailing slash', async () => {
    for (const path of ['/filer/directory/list', '/filer/directory/list/']) {
      const res = await fetch(url(agent, path, { directory: '~/docs' }), { headers: auth });
      expect(await res.json()).toEqual(['c.txt', 'a.txt', 'b.txt']);
    }
    const notDir = await fetch(url(agent, '/filer/directory/list', { directory: '~/hello.txt' }), { headers: auth });
    expect([notDir.status, await notDir.json()]).toEqual([404, { code: 404, data: 'not a directory' }]);
    const noParam = await fetch(url(agent, '/filer/directory/list'), { headers: auth });
    expect(await noParam.json()).toEqual({ errors: [{ location: 'query', param: 'directory', msg: 'No directory provided' }] });
  });
});

describe('upload', () => {
  it('writes the file where fullPath says, creating folders, whatever the field order', async () => {
    const before = await upload(agent, { fullPath: 'up/one/a.txt', file: file('first', 'x.txt') });
    expect(await before.json()).toEqual({ code: 200, data: 'ok' });
    expect(uploadedPath(before)).toBe('up/one/a.txt');
    const after = await upload(agent, { file: file('second', 'x.txt'), fullPath: '~/up/two/b.txt' });
    expect(await after.json()).toEqual({ code: 200, data: 'ok' });
    expect(uploadedPath(after)).toBe('up/two/b.txt');
    expect(readFileSync(join(home, 'up/one/a.txt'), 'utf8')).toBe('first');
    expect(readFileSync(join(home, 'up/two/b.txt'), 'utf8')).toBe('second');
    const plain = await upload(agent, { file: file('third', 'plain.txt') });
    expect(uploadedPath(plain)).toBe('plain.txt');
    expect(readdirSync(home).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('never overwrites unless asked: a colliding name gets a suffix', async () => {
    await upload(agent, { fullPath: 'same.txt', file: file('v1', 'same.txt') });
    const second = await upload(agent, { fullPath: 'same.txt', file: file('v2', 'same.txt') });
    expect(uploadedPath(second)).toBe('same (1).txt');
    expect(readFileSync(join(home, 'same.txt'), 'utf8')).toBe('v1');
    const forced = await upload(agent, { fullPath: 'same.txt', overwrite: 'true', file: file('v3', 'same.txt') });
    expect(uploadedPath(forced)).toBe('same.txt');
    expect(readFileSync(join(home, 'same.txt'), 'utf8')).toBe('v3');
  });

  it('refuses a target outside home with 403 and a missing file part with 422', async () => {
    const outside = await upload(agent, { fullPath: '../escape.txt', file: file('x', 'x.txt') });
    expect([outside.status, await outside.json()]).toEqual([403, { code: 403, data: 'Forbidden bad path' }]);
    expect(existsSync(join(home, '..', 'escape.txt'))).toBe(false);
    const noFile = await upload(agent, { fullPath: 'a.txt' });
    expect([noFile.status, await noFile.json()]).toEqual([422, { errors: [{ location: 'request', msg: 'No file provided' }] }]);
  });
});

describe('delete', () => {
  it('deletes a file, refuses a folder unless recursive, 404 for a missing one', async () => {
    writeFileSync(join(home, 'gone.txt'), 'x');
    const del = (body: unknown) =>
      fetch(`${agent.url}/filer`, { method: 'DELETE', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await (await del({ file: '~/gone.txt' })).json()).toEqual({ code: 200, data: 'ok' });
    expect(existsSync(join(home, 'gone.txt'))).toBe(false);
    const again = await del({ file: '~/gone.txt' });
    expect([again.status, await again.json()]).toEqual([404, { code: 404, data: 'Not Found' }]);
    mkdirSync(join(home, 'folder/inner'), { recursive: true });
    expect((await del({ file: '~/folder' })).status).toBe(409);
    expect(existsSync(join(home, 'folder'))).toBe(true);
    expect((await del({ file: '~/folder', recursive: true })).status).toBe(200);
    expect(existsSync(join(home, 'folder'))).toBe(false);
    expect((await del({ file: '~' })).status).toBe(400);
    expect(await (await del({ file: 7 })).json()).toEqual({ errors: [{ location: 'body', param: 'file', value: 7, msg: 'file must be a string' }] });
  });
});

describe('switches', () => {
  it('answers 403 Forbidden for each operation turned off by env, before reading an upload', async () => {
    const off = await startAgent('filer', {
      env: { AUTH_TOKEN: TOKEN, HOME: home, SENDFILE: 'disabled', ACCEPTFILE: '0', ACCEPTLISTFILE: 'false', ACCEPTDELETEFILE: 'disable' },
    });
    try {
      const forbidden = { code: 403, data: 'Forbidden' };
      const get = await fetch(url(off, '/filer', { file: '~/hello.txt' }), { headers: auth });
      expect([get.status, await get.json()]).toEqual([403, forbidden]);
      const list = await fetch(url(off, '/filer/directory/list', { directory: '~' }), { headers: auth });
      expect([list.status, await list.json()]).toEqual([403, forbidden]);
      const up = await upload(off, { fullPath: 'blocked.txt', file: file('x', 'x.txt') });
      expect([up.status, await up.json()]).toEqual([403, forbidden]);
      expect(existsSync(join(home, 'blocked.txt'))).toBe(false);
      const del = await fetch(`${off.url}/filer`, {
        method: 'DELETE',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"file":"~/hello.txt"}',
      });
      expect([del.status, await del.json()]).toEqual([403, forbidden]);
    } finally {
      await off.stop();
    }
  });
});
