import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { freePort, makeRunDir, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface NginxServer {
  url: string;
  daemon: ManagedProcess;
  stop(): Promise<void>;
}

/** nginx serving `root` as static files on a free loopback port (a reference for the file agents' benchmarks). */
export async function startNginx(root: string): Promise<NginxServer> {
  const nginx = requireCommand('nginx', 'nginx');
  const { dir, remove } = await makeRunDir('nginx');
  const port = await freePort();
  for (const sub of ['logs', 'tmp']) await mkdir(join(dir, sub));
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, [
    'daemon off;', 'worker_processes 1;',
    // as root, workers would drop to an account that cannot read a private test folder
    ...(process.getuid?.() === 0 ? ['user root;'] : []), `pid ${join(dir, 'nginx.pid')};`, `error_log ${join(dir, 'logs/error.log')};`,
    'events { worker_connections 64; }',
    'http {', '  access_log off;', '  sendfile on;', `  client_body_temp_path ${join(dir, 'tmp')};`, `  proxy_temp_path ${join(dir, 'tmp')};`,
    `  fastcgi_temp_path ${join(dir, 'tmp')};`, `  uwsgi_temp_path ${join(dir, 'tmp')};`, `  scgi_temp_path ${join(dir, 'tmp')};`,
    `  server { listen 127.0.0.1:${port}; root ${root}; }`, '}', '',
  ].join('\n'));
  const daemon = startProcess('nginx', nginx, ['-c', conf, '-p', dir]);
  const url = `http://127.0.0.1:${port}`;
  await daemon.aliveWhile(waitFor('nginx', async () => (await fetch(`${url}/`)).status > 0));
  return {
    url,
    daemon,
    async stop() {
      await daemon.stop();
      await remove();
    },
  };
}
