import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { freePort, makeRunDir, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface NginxServer {
  url: string;
  daemon: ManagedProcess;
  stop(): Promise<void>;
}

/** A path prefix sent to an upstream (WebSocket upgrades included); `strip` removes the prefix on the way. */
export interface ProxyRoute {
  prefix: string;
  upstream: string;
  strip?: boolean;
}

function locationBlock(route: ProxyRoute): string {
  const target = route.strip ? `${route.upstream.replace(/\/$/, '')}/` : route.upstream.replace(/\/$/, '');
  const prefix = route.strip && !route.prefix.endsWith('/') ? `${route.prefix}/` : route.prefix;
  return [
    `  location ${prefix} {`,
    `    proxy_pass ${target};`,
    '    proxy_http_version 1.1;',
    '    proxy_set_header Upgrade $http_upgrade;',
    '    proxy_set_header Connection $connection_upgrade;',
    '    proxy_set_header X-Forwarded-For $remote_addr;',
    // as a router that rewrites Host keeps the browser's host for the agents' Origin check
    '    proxy_set_header X-Forwarded-Host $http_host;',
    '    proxy_read_timeout 1h;',
    '    proxy_request_buffering off;',
    '    proxy_buffering off;',
    '    client_max_body_size 0;',
    '  }',
  ].join('\n');
}

/**
 * nginx on a free loopback port: serving `root` as static files (a reference for the file agents' benchmarks), and
 * with `routes`, a single-origin router in front of the agents, as abcdesktop's proxy is in front of a pod.
 */
export async function startNginx(root: string, routes: ProxyRoute[] = []): Promise<NginxServer> {
  const nginx = requireCommand('nginx', 'nginx');
  const { dir, remove } = await makeRunDir('nginx');
  const port = await freePort();
  for (const sub of ['logs', 'tmp']) await mkdir(join(dir, sub));
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      // as root, workers would drop to an account that cannot read a private test folder
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs/error.log')};`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      `  client_body_temp_path ${join(dir, 'tmp')};`,
      `  proxy_temp_path ${join(dir, 'tmp')};`,
      `  fastcgi_temp_path ${join(dir, 'tmp')};`,
      `  uwsgi_temp_path ${join(dir, 'tmp')};`,
      `  scgi_temp_path ${join(dir, 'tmp')};`,
      '  map $http_upgrade $connection_upgrade { default upgrade; "" close; }',
      `  server {\n  listen 127.0.0.1:${port};\n  root ${root};`,
      ...routes.map(locationBlock),
      '  }',
      '}',
      '',
    ].join('\n'),
  );
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
