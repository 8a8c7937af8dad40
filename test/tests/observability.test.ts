// Every agent's GET /metrics (Prometheus text, behind auth unless METRICS_PUBLIC=true) and GET /openapi.json, on the
// built agents with their real dependencies.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRunDir, startAgent, startPulse, startXvfb, type PulseServer, type RunningAgent, type XServer } from '@desktop-agents/tools/harness';

const TOKEN = 'observability-token-0001';
const auth = { authorization: `Bearer ${TOKEN}` };

const expected: Record<string, { metrics: string[]; paths: string[] }> = {
  broadcast: { metrics: ['broadcast_clients{kind="browser"}', 'broadcast_frames_shed_total', 'broadcast_clients_dropped_total'], paths: ['/stats'] },
  webshell: { metrics: ['webshell_terminals'], paths: ['/terminals', '/terminals/{pid}/size'] },
  filer: {
    metrics: ['filer_bytes_received_total', 'filer_downloads_total', 'filer_uploads_total'],
    paths: ['/filer', '/filer/directory/list', '/printerfiler'],
  },
  printerfile: { metrics: ['printerfile_jobs_announced_total', 'printerfile_uploads_total'], paths: ['/printerfiler', '/printer/status', '/printer/jobs'] },
  sound: { metrics: ['sound_listeners', 'sound_audio_dropped_bytes_total'], paths: ['/sound/sinks', '/sound/status'] },
  spawner: { metrics: ['spawner_windows', 'spawner_processes'], paths: ['/spawner/launch', '/spawner/getwindowslist', '/spawner/setBackgroundColor'] },
};

let run: { dir: string; remove: () => Promise<void> };
let x: XServer;
let pulse: PulseServer;
const agents: Record<string, RunningAgent> = {};

beforeAll(async () => {
  run = await makeRunDir('observability');
  await mkdir(join(run.dir, 'spool'), { recursive: true });
  [x, pulse] = await Promise.all([startXvfb(), startPulse()]);
  const env = { AUTH_TOKEN: TOKEN, HOME: run.dir, BROADCAST_SERVICE_URL: 'ws://127.0.0.1:9/' };
  agents['broadcast'] = await startAgent('broadcast', { env });
  agents['webshell'] = await startAgent('webshell', { env: { ...env, WEBSHELL_SHELL: '/bin/sh' } });
  agents['filer'] = await startAgent('filer', { env });
  agents['printerfile'] = await startAgent('printerfile', { awaitReady: false, env: { ...env, WATCHDIR: join(run.dir, 'spool'), CUPS_SERVER: '127.0.0.1:9' } });
  agents['sound'] = await startAgent('sound', { env: { ...env, PULSE_SERVER: `unix:${pulse.socket}` } });
  agents['spawner'] = await startAgent('spawner', { env: { ...env, DISPLAY: x.display, SPAWNER_PID_FILE: join(run.dir, 'spawner.pid') } });
});

afterAll(async () => {
  await Promise.all(Object.values(agents).map((a) => a.stop()));
  await Promise.all([x?.stop(), pulse?.stop()]);
  await run?.remove();
});

describe.each(Object.keys(expected))('%s', (name) => {
  it('serves its metrics and the process metrics in Prometheus text, only with credentials', async () => {
    const agent = agents[name]!;
    expect((await fetch(`${agent.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${agent.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('process_resident_memory_bytes');
    for (const metric of expected[name]!.metrics) expect(text, metric).toContain(metric);
  });

  it('serves its status page, and its history with its readiness from the agent itself (fastify inject, loaded on first use)', async () => {
    const agent = agents[name]!;
    expect((await fetch(`${agent.url}/status`)).status).toBe(200);
    expect((await fetch(`${agent.url}/status/history.json`)).status).toBe(401);
    const res = await fetch(`${agent.url}/status/history.json`, { headers: auth });
    expect(res.status).toBe(200);
    const { agents: views } = (await res.json()) as { agents: Array<{ name: string; ready: boolean; reason?: string }> };
    const readiness = (await agent.get('/readyz')).status === 200;
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ name, ready: readiness });
  });

  it('describes its routes in GET /openapi.json', async () => {
    const res = await fetch(`${agents[name]!.url}/openapi.json`, { headers: auth });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { title: string }; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe(name);
    for (const path of [...expected[name]!.paths, '/healthz', '/readyz', '/metrics']) expect(Object.keys(doc.paths), path).toContain(path);
    // every operation says what it answers
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { responses?: Record<string, unknown> }>).map(([method, op]) => ({ path, method, op })),
    );
    const undescribed = operations.filter(({ op }) => !op.responses?.['200']).map(({ path, method }) => `${method} ${path}`);
    expect(undescribed).toEqual([]);
  });
});

describe('METRICS_PUBLIC=true', () => {
  it('serves /metrics without credentials, and nothing else', async () => {
    const open = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, METRICS_PUBLIC: 'true' } });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${open.url}/stats`)).status).toBe(401);
    } finally {
      await open.stop();
    }
  });
});
