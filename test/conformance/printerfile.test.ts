// ../shared/spec/printerfile.md as black-box tests against the built agent and bus, in abcdesktop and token mode.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunDir, startAgent, waitFor, type RunningAgent } from '@desktop-agents/tools/harness';
import { call, MODES } from './modes.js';

const COOKIE = 'conformance-printer-cookie';

describe.each(MODES)('printerfile in $name mode', (mode) => {
  let run: { dir: string; remove: () => Promise<void> };
  let spool: string;
  let bus: RunningAgent;
  let printer: RunningAgent;
  let listener: WebSocket;
  const events: Array<{ method: string; data?: unknown }> = [];

  beforeAll(async () => {
    run = await makeRunDir(`conformance-printerfile-${mode.name}`);
    spool = join(run.dir, 'spool');
    await mkdir(spool, { recursive: true });
    await writeFile(join(spool, 'before.pdf'), '%PDF-1.4 printed before the start');
    bus = await startAgent('broadcast', { env: { ...mode.env, BROADCAST_COOKIE: COOKIE } });
    listener = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast${mode.wsQuery() ? `?${mode.wsQuery()}` : ''}`, { localAddress: '127.0.0.2' });
    listener.on('message', (raw) => events.push(JSON.parse(raw.toString()) as { method: string; data?: unknown }));
    await new Promise((resolve) => listener.once('open', resolve));
    printer = await startAgent('printerfile', {
      awaitReady: false,
      env: {
        ...mode.env,
        HOME: run.dir,
        WATCHDIR: spool,
        BROADCAST_COOKIE: COOKIE,
        BROADCAST_SERVICE_TCP_PORT: String(bus.port),
        PRINTERFILE_SETTLE_MS: '200',
        CUPS_SERVER: '127.0.0.1:9',
      },
    });
  });
  afterAll(async () => {
    listener?.close();
    await printer?.stop();
    await bus?.stop();
    await run?.remove();
  });

  const announced = (name: string) => events.filter((e) => e.method === 'printer.new' && (e.data as { path: string }).path === name);

  it('announces a new file once its writes settle: { newfile: true, date: "<ms>", path: "<name>" }, none for the initial scan', async () => {
    await writeFile(join(spool, 'job-7.pdf'), '%PDF-1.4 one');
    await waitFor('printer.new', async () => announced('job-7.pdf').length === 1, 10_000);
    expect(announced('job-7.pdf')[0]).toEqual({ method: 'printer.new', data: { newfile: true, date: expect.stringMatching(/^\d{13}$/), path: 'job-7.pdf' } });
    expect(announced('before.pdf')).toEqual([]);
  });

  it('announces a reprint (the file rewritten after it settled) again, once', async () => {
    await writeFile(join(spool, 'job-8.pdf'), '%PDF-1.4 first');
    await waitFor('first', async () => announced('job-8.pdf').length === 1, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await writeFile(join(spool, 'job-8.pdf'), '%PDF-1.4 printed again, longer');
    await waitFor('reprint', async () => announced('job-8.pdf').length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(announced('job-8.pdf').length).toBe(2);
  });

  it('serves the folder under /printerfiler: download and delete on, upload and listing off', async () => {
    const download = await call(printer.url, 'GET', `/printerfiler?file=${encodeURIComponent('~/job-7.pdf')}`, { headers: mode.headers });
    expect(download).toMatchObject({ status: 200, body: '%PDF-1.4 one' });
    const forbidden = { status: 403, body: { code: 403, data: 'Forbidden' } };
    expect(await call(printer.url, 'GET', '/printerfiler/directory/list?directory=~', { headers: mode.headers })).toMatchObject(forbidden);
    const form = new FormData();
    form.append('file', new File(['x'], 'x.pdf'));
    expect(await call(printer.url, 'POST', '/printerfiler', { headers: mode.headers, body: form })).toMatchObject(forbidden);
    expect(await call(printer.url, 'DELETE', '/printerfiler', { headers: mode.headers, json: { file: '~/job-7.pdf' } })).toMatchObject({
      status: 200,
      body: { code: 200, data: 'ok' },
    });
  });
});
