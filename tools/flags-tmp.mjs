import { startComponents } from './dist/pod/components.js';
import { freePort, makeRunDir, rssMiB, startProcess, waitFor } from './dist/harness/index.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync } from 'node:fs';
const c = await startComponents();
const run = await makeRunDir('flags');
mkdirSync(run.dir + '/home');
const names = ['spawner', 'broadcast', 'webshell', 'filer', 'printerfile', 'sound'];
const penv = {
  spawner: 'SPAWNER_SERVICE_TCP_PORT',
  broadcast: 'BROADCAST_SERVICE_TCP_PORT',
  webshell: 'PORT',
  filer: 'FILE_SERVICE_TCP_PORT',
  printerfile: 'PRINTERFILE_SERVICE_TCP_PORT',
  sound: 'SOUND_SERVICE_TCP_PORT',
};
const sets = JSON.parse(process.argv[2]);
for (const flags of sets) {
  const env = {
    ...process.env,
    AUTH_TOKEN: 'flags-token-000000001',
    HOME: run.dir + '/home',
    SPAWNER_PID_FILE: run.dir + '/s.pid',
    DISPLAY: c.x.display,
    PULSE_SERVER: c.pulse.server,
    CUPS_SERVER: c.cups.server,
    PRINTER_NAME: c.cups.printer,
    WATCHDIR: c.cups.outDir,
    LOG_LEVEL: 'warn',
  };
  const ports = {};
  for (const n of names) {
    ports[n] = await freePort();
    env[penv[n]] = String(ports[n]);
  }
  const t0 = performance.now();
  const p = startProcess('m', process.execPath, [...flags, '../multi/dist/src/main.js'], { env });
  await p.aliveWhile(
    waitFor(
      'ready',
      async () =>
        (await Promise.all(names.map(async (n) => (await fetch(`http://127.0.0.1:${ports[n]}/readyz`).catch(() => undefined))?.status === 200))).every(Boolean),
      20000,
      5,
    ),
  );
  const ready = performance.now() - t0;
  await sleep(3000);
  console.log(JSON.stringify(flags), 'rss', rssMiB(p.pid).toFixed(1), 'ready', ready.toFixed(0));
  await p.stop();
}
await c.stop();
await run.remove();
