// ../shared/spec/filer.md as black-box tests against the built agent, in abcdesktop mode and token mode.
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunDir, startAgent, type RunningAgent } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

describe.each(MODES)('filer in $name mode', (mode) => {
  let run: { dir: string; remove: () => Promise<void> };
  let home: string;
  let agent: RunningAgent;
  beforeAll(async () => {
    run = await makeRunDir(`conformance-filer-${mode.name}`);
    home = join(run.dir, 'home');
    await mkdir(join(home, 'docs'), { recursive: true });
    await writeFile(join(home, 'hello.txt'), 'hello');
    for (const [i, name] of ['b.txt', 'a.txt', 'c.txt'].entries()) {
      await writeFile(join(home, 'docs', name), name);
      await utimes(join(home, 'docs', name), new Date(1_700_000_000_000 + i * 1000), new Date(1_700_000_000_000 + i * 1000));
    }
    agent = await startAgent('filer', { env: { ...mode.env, HOME: home } });
  });
  afterAll(async () => {
    await agent?.stop();
    await run?.remove();
  });

  const get = (path: string) => call(agent.url, 'GET', path, { headers: mode.headers });
  const upload = (fields: Array<[string, string | File]>) => {
    const form = new FormData();
    for (const [name, value] of fields) form.append(name, value);
    return call(agent.url, 'POST', '/filer', { headers: mode.headers, body: form });
  };
  const remove = (json: unknown) => call(agent.url, 'DELETE', '/filer', { headers: mode.headers, json });

  it('downloads a file, with ~, home-relative and absolute paths', async () => {
    for (const path of ['~/hello.txt', 'hello.txt', join(home, 'hello.txt')]) {
      expect(await get(`/filer?file=${encodeURIComponent(path)}`)).toMatchObject({ status: 200, body: 'hello' });
    }
  });

  it('downloads a folder as a zip named after it', async () => {
    const res = await fetch(`${agent.url}/filer?file=${encodeURIComponent('~/docs')}`, { headers: mode.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toContain('docs.zip');
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
  });

  it('lists names oldest first, with the trailing slash the UI uses; not a folder is 404', async () => {
    expect(await get(`/filer/directory/list/?directory=${encodeURIComponent('~/docs')}`)).toMatchObject({ status: 200, body: ['b.txt', 'a.txt', 'c.txt'] });
    expect(await get('/filer/directory/list?directory=docs')).toMatchObject({ status: 200, body: ['b.txt', 'a.txt', 'c.txt'] });
    expect(await get('/filer/directory/list?directory=hello.txt')).toMatchObject({ status: 404, body: { code: 404, data: 'not a directory' } });
  });

  it('validates file and directory with the spec texts', async () => {
    expect((await get('/filer')).body).toEqual({ errors: [{ location: 'query', param: 'file', msg: 'No file provided' }] });
    expect((await get('/filer?file=')).body).toEqual({ errors: [{ location: 'query', param: 'file', value: '', msg: 'file must not be empty' }] });
    expect((await get('/filer/directory/list')).body).toEqual({ errors: [{ location: 'query', param: 'directory', msg: 'No directory provided' }] });
    expect((await get('/filer/directory/list?directory=')).body).toEqual({
      errors: [{ location: 'query', param: 'directory', value: '', msg: 'directory must not be empty' }],
    });
  });

  it('answers 400 outside home, 404 for a missing file', async () => {
    expect(await get('/filer?file=%2Fetc%2Fpasswd')).toMatchObject({ status: 400, body: { code: 400, data: 'Path Server Error' } });
    expect(await get(`/filer?file=${encodeURIComponent(`${home}2/x`)}`)).toMatchObject({ status: 400, body: { code: 400, data: 'Path Server Error' } });
    expect(await get('/filer?file=~/missing.txt')).toMatchObject({ status: 404, body: { code: 404, data: 'Not found' } });
  });

  it('uploads: exactly { code: 200, data: "ok" }, relative fullPath in home, folders created, the final name in Location', async () => {
    const first = await upload([
      ['fullPath', 'dropped/folder/x.txt'],
      ['file', new File(['one'], 'x.txt')],
    ]);
    expect(first).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
    expect(await readFile(join(home, 'dropped', 'folder', 'x.txt'), 'utf8')).toBe('one');
    const second = await upload([
      ['fullPath', 'dropped/folder/x.txt'],
      ['file', new File(['two'], 'x.txt')],
    ]);
    expect(second.body).toEqual({ code: 200, data: 'ok' });
    expect(decodeURIComponent(second.headers.get('location') ?? '')).toBe('/filer?file=~/dropped/folder/x (1).txt');
    const plain = await upload([
      ['file', new File(['wall'], 'w.png')],
      ['fullPath', '~/.wallpapers/w.png'],
    ]);
    expect(plain.body).toEqual({ code: 200, data: 'ok' });
    expect(await readFile(join(home, '.wallpapers', 'w.png'), 'utf8')).toBe('wall');
  });

  it('answers 422 "No file provided" at location request without the file part, or when not multipart', async () => {
    const none = { status: 422, body: { errors: [{ location: 'request', msg: 'No file provided' }] } };
    expect(await upload([['fullPath', 'x.txt']])).toMatchObject(none);
    expect(await call(agent.url, 'POST', '/filer', { headers: mode.headers, json: { file: 'x' } })).toMatchObject(none);
    expect(await call(agent.url, 'POST', '/filer', { headers: { ...mode.headers, 'content-type': 'text/plain' }, body: 'x' })).toMatchObject(none);
  });

  it('refuses an upload outside home with 403 Forbidden bad path', async () => {
    expect(
      await upload([
        ['fullPath', '../escape.txt'],
        ['file', new File(['x'], 'x.txt')],
      ]),
    ).toMatchObject({ status: 403, body: { code: 403, data: 'Forbidden bad path' } });
  });

  it('deletes with the spec answers and validation texts', async () => {
    await writeFile(join(home, 'gone.txt'), 'x');
    expect(await remove({ file: '~/gone.txt' })).toMatchObject({ status: 200, body: { code: 200, data: 'ok' } });
    expect(await remove({ file: '~/gone.txt' })).toMatchObject({ status: 404, body: { code: 404, data: 'Not Found' } });
    expect((await remove({})).body).toEqual({ errors: [{ location: 'body', param: 'file', msg: 'No file provided' }] });
    expect((await remove({ file: null })).body).toEqual({ errors: [{ location: 'body', param: 'file', value: null, msg: 'No file provided' }] });
    expect((await remove({ file: '' })).body).toEqual({ errors: [{ location: 'body', param: 'file', value: '', msg: 'file must not be empty' }] });
    expect((await remove({ file: 42 })).body).toEqual({ errors: [{ location: 'body', param: 'file', value: 42, msg: 'file must be a string' }] });
  });

  it('answers unknown routes with "Can not METHOD PATH", PATH relative to the mount', async () => {
    expect(await get('/filer/x')).toMatchObject({ status: 404, body: { code: 404, data: 'Can not GET /x' } });
    expect(await get('/printerfiler/a/b')).toMatchObject({ status: 404, body: { code: 404, data: 'Can not GET /a/b' } });
  });

  it('serves the same routes under /printerfiler', async () => {
    expect(await get('/printerfiler?file=~/hello.txt')).toMatchObject({ status: 200, body: 'hello' });
  });
});

describe('filer switches', () => {
  let run: { dir: string; remove: () => Promise<void> };
  let agent: RunningAgent;
  beforeAll(async () => {
    run = await makeRunDir('conformance-filer-switches');
    await writeFile(join(run.dir, 'f.txt'), 'f');
    agent = await startAgent('filer', {
      env: { AUTH_MODE: 'abcdesktop', HOME: run.dir, SENDFILE: 'disabled', ACCEPTFILE: 'false', ACCEPTLISTFILE: '0', ACCEPTDELETEFILE: 'disable' },
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await run?.remove();
  });

  it('answers 403 { code: 403, data: "Forbidden" } for each operation turned off', async () => {
    const forbidden = { status: 403, body: { code: 403, data: 'Forbidden' } };
    expect(await call(agent.url, 'GET', '/filer?file=~/f.txt')).toMatchObject(forbidden);
    expect(await call(agent.url, 'GET', '/filer/directory/list?directory=~')).toMatchObject(forbidden);
    expect(await call(agent.url, 'DELETE', '/filer', { json: { file: '~/f.txt' } })).toMatchObject(forbidden);
    const form = new FormData();
    form.append('file', new File(['x'], 'x.txt'));
    expect(await call(agent.url, 'POST', '/filer', { body: form })).toMatchObject(forbidden);
  });
});
