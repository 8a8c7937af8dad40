// Clipboard round trips through the spawner and the bus, 1 KiB of text and a 5 MiB PNG, each beside `xclip -o` of
// the same selection in the same run (a native X reader: its process start, its ConvertSelection, INCR for the PNG).
//   desktop → browser: an X client (xclip) takes CLIPBOARD; timed until the browser holds clipboard.changed.
//   browser → desktop: the browser sends clipboard.set; timed until `xclip -o` in the desktop reads it back.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { noisePng, startAgent, startXvfb, waitFor } from '../../../harness/index.js';
import { median, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const COOKIE = 'bench-cookie';

const run = promisify(execFile);

const suite: BenchSuite = {
  name: 'clipboard',
  async run({ quick }): Promise<BenchResult[]> {
    const ROUNDS = quick ? 1 : 10;
    const x = await startXvfb();
    const home = mkdtempSync(join(tmpdir(), 'clipboard-bench-'));
    const env = { ...process.env, DISPLAY: x.display };
    const bus = await startAgent('broadcast', { env: { AUTH_TOKEN: TOKEN, BROADCAST_COOKIE: COOKIE, LOG_LEVEL: 'warn' } });
    const spawner = await startAgent('spawner', {
      env: {
        AUTH_TOKEN: TOKEN,
        BROADCAST_COOKIE: COOKIE,
        BROADCAST_SERVICE_TCP_PORT: String(bus.port),
        DISPLAY: x.display,
        HOME: home,
        LOG_LEVEL: 'warn',
        SPAWNER_PID_FILE: join(home, 'pid'),
        SPAWNER_IDLE_MS: '0',
      },
    });
    const browser = new WebSocket(`ws://127.0.0.1:${bus.port}/broadcast?jwt_token=${TOKEN}`, { maxPayload: 64 * 1024 * 1024 });
    let changed = 0;
    browser.on('message', (raw: Buffer) => {
      if (raw.subarray(0, 40).toString().includes('"clipboard.changed"')) changed += 1;
    });
    await new Promise((resolve) => browser.once('open', resolve));
    await waitFor('spawner on the bus', async () => (await spawner.get('/readyz')).status === 200, 10_000);
    const owners: ChildProcess[] = [];
    const xclipOut = (target: string) =>
      run('xclip', ['-o', '-selection', 'clipboard', '-t', target], { env, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    try {
      const rows: BenchResult[] = [];
      for (const [label, target, data] of [
        ['1 KiB text', 'UTF8_STRING', Buffer.from('x'.repeat(1024))],
        ['5 MiB PNG', 'image/png', noisePng(5 * 1024 * 1024)],
      ] as const) {
        const toBrowser: number[] = [];
        const nativeRead: number[] = [];
        const toDesktop: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const before = changed;
          const t0 = performance.now();
          const owner = spawn('xclip', ['-quiet', '-i', '-selection', 'clipboard', '-t', target], { env, stdio: ['pipe', 'ignore', 'ignore'] });
          owners.push(owner);
          owner.stdin.end(data);
          await waitFor('clipboard.changed', async () => changed > before, 20_000, 1);
          toBrowser.push(performance.now() - t0);
          const t1 = performance.now();
          await xclipOut(target);
          nativeRead.push(performance.now() - t1);
          owner.kill();

          const t2 = performance.now();
          const frame = target === 'image/png' ? { mime: 'image/png', base64: data.toString('base64') } : { mime: 'text/plain', text: data.toString() };
          browser.send(JSON.stringify({ method: 'clipboard.set', data: frame }));
          await waitFor(
            'read back in the desktop',
            async () => (await xclipOut(target).catch(() => ({ stdout: Buffer.alloc(0) }))).stdout.equals(data),
            20_000,
            1,
          );
          toDesktop.push(performance.now() - t2);
        }
        const reference = { name: 'xclip -o of the same selection', value: median(nativeRead) };
        rows.push(
          { measure: `desktop → browser, ${label} (median of ${ROUNDS})`, unit: 'ms', value: median(toBrowser), reference, better: 'lower' },
          { measure: `browser → desktop, ${label} (median of ${ROUNDS})`, unit: 'ms', value: median(toDesktop), reference, better: 'lower' },
        );
      }
      return rows;
    } finally {
      for (const o of owners) o.kill();
      browser.terminate();
      await spawner.stop();
      await bus.stop();
      await x.stop();
      rmSync(home, { recursive: true, force: true });
    }
  },
};

export default suite;
