import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAgent, startCups, waitFor, type CupsServer, type RunningAgent } from '@desktop-agents/tools/harness';

const TOKEN = 'printerfile-test-token-9';
const COOKIE = 'printer-cookie';
const auth = { authorization: `Bearer ${TOKEN}` };
let cups: CupsServer;
let bus: RunningAgent;
let agent: RunningAgent;
let listener: WebSocket;
const events: Array<{ method: string; data?: unknown }> = [];
const work = mkdtempSync(join(tmpdir(), 'printerfile-'));

const printerNews = () => events.filter((e) => e.method === 'printer.new').map((e) => e.data as { path: string; date: string; newfile: boolean });

beforeAll(async () => {
  cups = await startCups();
  bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE } });
  listener = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`);
  listener.on('message', (raw) => events.push(JSON.parse(raw.toString()) as { method: string; data?: unknown }));
  await new Promise((resolve) => listener.once('open', resolve));
  agent = await startAgent('printerfile', {
    env: {
      AUTH_TOKEN: TOKEN,
      BROADCAST_COOKIE: COOKIE,
      BROADCAST_SERVICE_TCP_PORT: String(bus.port),
      WATCHDIR: cups.outDir,
      CUPS_SERVER: cups.server,
      PRINTER_NAME: cups.printer,
      PRINTERFILE_SETTLE_MS: '500',
      PRINTERFILE_POLL_MS: '300',
      PRINTERFILE_PURGE_INTERVAL_MS: '300',
      PRINTERFILE_PURGE_AGE_MS: String(3600 * 1000),
    },
  });
});
afterAll(async () => {
  listener?.terminate();
  await agent?.stop();
  await bus?.stop();
  await cups?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('printing through the real cupsd', () => {
  it('announces printer.available true once the queue accepts jobs', async () => {
    await waitFor('printer.available', async () => events.some((e) => e.method === 'printer.available' && e.data === true), 5000);
  });

  it('turns `lp` into a PDF, announced exactly once, downloadable, and its job shown completed', async () => {
    const text = join(work, 'letter.txt');
    writeFileSync(text, 'Dear desktop,\nthis page was printed by a test.\n');
    const out = execFileSync('lp', ['-h', cups.server, '-d', cups.printer, '-t', 'letter', text], { encoding: 'utf8' });
    const jobId = Number(/request id is \S+-(\d+)/.exec(out)?.[1]);
    expect(jobId).toBeGreaterThan(0);
    await waitFor('printer.new', async () => printerNews().length === 1, 20_000);
    const [news] = printerNews();
    expect(news?.newfile).toBe(true);
    expect(news?.path).toMatch(new RegExp(`job_${jobId}\\.pdf$`));
    expect(Math.abs(Number(news?.date) - Date.now())).toBeLessThan(30_000);
    // the file is in the folder, and stays announced once
    expect(existsSync(join(cups.outDir, news?.path ?? ''))).toBe(true);
    await sleep(1500);
    expect(printerNews()).toHaveLength(1);

    const pdf = await fetch(`${agent.url}/printerfiler?file=${encodeURIComponent(`~/${news?.path}`)}`, { headers: auth });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    const jobState = async () => {
      const jobs = (await (await fetch(`${agent.url}/printer/jobs`, { headers: auth })).json()) as { data: Array<{ id: number; state: string }> };
      return jobs.data.find((j) => j.id === jobId)?.state;
    };
    // cups marks the job completed once cups-pdf has exited, a moment after the file is complete
    await waitFor('job completed', async () => (await jobState()) === 'completed', 10_000).catch(() => undefined);
    expect(await jobState()).toBe('completed');
    const status = (await (await fetch(`${agent.url}/printer/status`, { headers: auth })).json()) as { data: { name: string; accepting: boolean } };
    expect(status.data).toMatchObject({ name: cups.printer, accepting: true });
  });

  it('announces a slowly written file once, only after its writes have settled', async () => {
    const path = join(cups.outDir, 'slow.pdf');
    const before = printerNews().length;
    writeFileSync(path, '%PDF-1.4\n');
    const written: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(200);
      appendFileSync(path, `chunk ${i}\n`);
      written.push(Date.now());
    }
    await waitFor('slow file announced', async () => printerNews().length === before + 1, 5000);
    const announcedAt = Number(printerNews().at(-1)?.date);
    expect(printerNews().at(-1)?.path).toBe('slow.pdf');
    expect(announcedAt).toBeGreaterThanOrEqual(written.at(-1)! + 400);
    await sleep(1000);
    expect(printerNews().filter((n) => n.path === 'slow.pdf')).toHaveLength(1);
  });

  it('serves download and delete only (upload and listing are off), and confines paths to the folder', async () => {
    const list = await fetch(`${agent.url}/printerfiler/directory/list?directory=~`, { headers: auth });
    expect([list.status, await list.json()]).toEqual([403, { code: 403, data: 'Forbidden' }]);
    const form = new FormData();
    form.append('file', new File(['x'], 'x.pdf'));
    const up = await fetch(`${agent.url}/printerfiler`, { method: 'POST', headers: auth, body: form });
    expect(up.status).toBe(403);
    const outside = await fetch(`${agent.url}/printerfiler?file=/etc/hostname`, { headers: auth });
    expect(outside.status).toBe(400);
    writeFileSync(join(cups.outDir, 'remove-me.pdf'), '%PDF-');
    const del = await fetch(`${agent.url}/printerfiler`, {
      method: 'DELETE',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"file":"~/remove-me.pdf"}',
    });
    expect(await del.json()).toEqual({ code: 200, data: 'ok' });
    expect(existsSync(join(cups.outDir, 'remove-me.pdf'))).toBe(false);
  });

  it('purges printed files older than the configured age', async () => {
    const old = join(cups.outDir, 'old-job.pdf');
    writeFileSync(old, '%PDF-old');
    const twoHoursAgo = (Date.now() - 2 * 3600 * 1000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    await waitFor('old file purged', async () => !existsSync(old), 3000);
    expect(readdirSync(cups.outDir).length).toBeGreaterThan(0);
  });

  it('reports cupsd going away: /readyz false, a clear 503 on status, printer.available false; and back', async () => {
    await cups.kill();
    const ready = await agent.get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toMatch(/cupsd/);
    const status = await fetch(`${agent.url}/printer/status`, { headers: auth });
    expect(status.status).toBe(503);
    expect(((await status.json()) as { data: string }).data).toMatch(/^cupsd is not reachable/);
    await waitFor(
      'printer.available false',
      async () => events.at(-1)?.method === 'printer.available' && events.some((e) => e.method === 'printer.available' && e.data === false),
      5000,
    );
    await cups.restart();
    await waitFor('ready again', async () => (await agent.get('/readyz')).status === 200, 10_000);
  });

  it('writes only JSON lines, however often cupsd is asked', async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${agent.url}/printer/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const lines = agent.process.output.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => !l.startsWith('{') || !isJson(l))).toEqual([]);
  });

  it("logs Node's warnings about a library (ipp's deprecated Buffer()) as warnings with their code, not as errors", () => {
    const logged = agent.logLines();
    expect(logged.filter((l) => Number(l['level']) >= 50 && JSON.stringify(l).includes('DeprecationWarning'))).toEqual([]);
    expect(logged.some((l) => l['msg'] === 'process warning' && l['code'] === 'DEP0005' && l['level'] === 40)).toBe(true);
  });

  it('exits 0 on SIGTERM', async () => {
    // an agent that died earlier shows why here (its last lines)
    expect(await agent.stop(), agent.process.output.slice(-4000)).toEqual({ code: 0, signal: null });
    agent = await startAgent('printerfile', {
      env: { AUTH_TOKEN: TOKEN, WATCHDIR: cups.outDir, CUPS_SERVER: cups.server, PRINTER_NAME: cups.printer, BROADCAST_SERVICE_TCP_PORT: String(bus.port) },
    });
  });
});

describe('uploads switched on (ACCEPTFILE)', () => {
  it('accepts an upload up to PRINTERFILE_MAX_UPLOAD_BYTES and refuses a larger one with 413', async () => {
    const folder = mkdtempSync(join(work, 'accept-'));
    const accepting = await startAgent('printerfile', {
      env: {
        AUTH_TOKEN: TOKEN,
        WATCHDIR: folder,
        CUPS_SERVER: cups.server,
        PRINTER_NAME: cups.printer,
        BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/',
        ACCEPTFILE: 'true',
        PRINTERFILE_MAX_UPLOAD_BYTES: String(64 * 1024),
      },
    });
    try {
      const upload = async (bytes: number) => {
        const form = new FormData();
        form.append('file', new File([Buffer.alloc(bytes, 0x25)], 'form.pdf'));
        const res = await fetch(`${accepting.url}/printerfiler`, { method: 'POST', headers: auth, body: form });
        return { status: res.status, body: (await res.json()) as unknown };
      };
      expect((await upload(48 * 1024)).status).toBe(200);
      expect(readFileSync(join(folder, 'form.pdf')).length).toBe(48 * 1024);
      expect((await upload(65 * 1024)).status).toBe(413);
    } finally {
      await accepting.stop();
    }
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
