import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tokenAuthenticator } from '@desktop-agents/kit';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { freePort, makeRunDir, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface NginxServer {
  url: string;
  daemon: ManagedProcess;
  /** The server's error log (what nginx says of an upstream that refused or failed). */
  errorLog: string;
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

/** nginx in the foreground with a private prefix, serving `server` (the lines of one server block). */
async function runNginx(name: string, listen: string, server: (port: number) => string[], wantedPort?: number): Promise<NginxServer> {
  const nginx = requireCommand('nginx', 'nginx');
  const { dir, remove } = await makeRunDir(name);
  const port = wantedPort ?? (await freePort(listen));
  for (const sub of ['logs', 'tmp']) await mkdir(join(dir, sub));
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'logs/error.log');
  await writeFile(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      // as root, workers would drop to an account that cannot read a private test folder
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog};`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      `  client_body_temp_path ${join(dir, 'tmp')};`,
      `  proxy_temp_path ${join(dir, 'tmp')};`,
      `  fastcgi_temp_path ${join(dir, 'tmp')};`,
      `  uwsgi_temp_path ${join(dir, 'tmp')};`,
      `  scgi_temp_path ${join(dir, 'tmp')};`,
      '  map $http_upgrade $connection_upgrade { default upgrade; "" close; }',
      '  server {',
      `  listen ${listen}:${port};`,
      ...server(port),
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const daemon = startProcess(name, nginx, ['-c', conf, '-p', dir]);
  const url = `http://${listen}:${port}`;
  await daemon.aliveWhile(waitFor(name, async () => (await fetch(`${url}/`)).status > 0));
  return {
    url,
    daemon,
    errorLog,
    async stop() {
      await daemon.stop();
      await remove();
    },
  };
}

/**
 * nginx on a free loopback port: serving `root` as static files (a reference for the file agents' benchmarks), and
 * with `routes`, a single-origin proxy in front of the agents that keeps the browser's host in X-Forwarded-Host.
 */
export async function startNginx(root: string, routes: ProxyRoute[] = []): Promise<NginxServer> {
  return runNginx('nginx', '127.0.0.1', () => [`  root ${root};`, ...routes.map(locationBlock)]);
}

/** Where the router finds one desktop: the pod's address and each service's port there. */
export interface RouterUpstream {
  host: string;
  ports: { spawner: number; broadcast: number; webshell: number; filer: number; printerfile: number; speaker: number; microphone: number };
}

export interface RouterOptions {
  /** The public site's files (the web UI), served at `/` as the router serves its website. */
  site: string;
  upstream: RouterUpstream;
  /** The address the router listens on (the public site); another loopback address than the pod's. */
  listen?: string;
  /** The source address of the router's connections to the pod (`proxy_bind`), when not the route's own. */
  bind?: string;
  /** Its port (default: a free one), for a pod that must be told the public origin before the router starts. */
  port?: number;
  /**
   * The desktop signing key's public half: the router forwards only requests with a desktop JWT it verifies with it
   * (abcdesktop's does, before it decrypts the pod's address from the token), here through `auth_request`.
   */
  desktopKey: string;
}

/**
 * A router shaped like abcdesktop's (abcdesktopio/route: route.conf, ws.conf, proxy.conf), in our own words: the
 * same locations and the same header rules, with the desktop's address fixed instead of decrypted from the JWT.
 * - the WebSocket locations (/broadcast, /terminals/<pid>, /sound, /microphone): HTTP/1.1 with Upgrade and
 *   `Connection: upgrade`, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto, Authorization; Host left to nginx (the
 *   upstream's ip:port); /sound and /microphone go to the 4.x ports with the prefix replaced by `/`;
 * - /spawner: User-Agent, Origin, X-Real-IP, X-Forwarded-For, Accept-Language, `Host: $host` (the public host
 *   without its port) and X-Forwarded-Host from an unset server_name (empty, so nginx sends none);
 * - /terminals (create), /terminals/<pid>/size, /filer, /printerfiler: a bare proxy_pass (HTTP/1.0, Host the
 *   upstream, the request body buffered first);
 * - everything the browser sends itself (Origin, Cookie, ABCAuthorization, Sec-Fetch-*, the query string) passes.
 */
export async function startRouter(options: RouterOptions): Promise<NginxServer> {
  const { host, ports } = options.upstream;
  const verifier = await startTokenVerifier(options.desktopKey);
  // where each location finds the token, as abcdesktop's router reads it: the header, or the query of a WebSocket
  const fromHeader = ['    set $jwt_token $http_abcauthorization;', '    auth_request /_verify_desktop_token;'];
  const fromQuery = ['    set $jwt_token $args;', '    if ($arg_jwt_token) { set $jwt_token $arg_jwt_token; }', '    auth_request /_verify_desktop_token;'];
  const to = (port: number, path = '') => `http://${host}:${port}${path}`;
  const bind = options.bind ? [`  proxy_bind ${options.bind};`] : [];
  const websocket = [
    '    sendfile off;',
    '    tcp_nopush off;',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header Authorization $http_authorization;',
    '    proxy_buffering off;',
    '    proxy_http_version 1.1;',
    '    proxy_set_header Upgrade $http_upgrade;',
    '    proxy_set_header Connection "upgrade";',
    '    proxy_set_header Accept-Language $http_accept_language;',
  ];
  const proxyHeaders = [
    '    proxy_set_header User-Agent $http_user_agent;',
    '    proxy_set_header Origin $http_origin;',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Host $server_name;',
    '    proxy_set_header Accept-Language $http_accept_language;',
    '    proxy_set_header Host $host;',
  ];
  const location = (match: string, lines: string[]) => [`  location ${match} {`, ...lines, '  }'];
  const router = await runNginx(
    'router',
    options.listen ?? '127.0.0.2',
    () => [
      `  root ${options.site};`,
      '  index index.html;',
      ...bind,
      ...location('= /_verify_desktop_token', [
        '    internal;',
        '    proxy_pass_request_body off;',
        '    proxy_set_header Content-Length "";',
        '    proxy_set_header X-Desktop-Token $jwt_token;',
        `    proxy_pass ${verifier.url};`,
      ]),
      ...location('/spawner', [...fromHeader, '    client_max_body_size 8M;', ...proxyHeaders, `    proxy_pass ${to(ports.spawner)};`]),
      ...location('/terminals/', [
        '    proxy_read_timeout 1800s;',
        '    proxy_send_timeout 1800s;',
        '    set $jwt_token $args;',
        '    auth_request /_verify_desktop_token;',
        ...websocket,
        `    proxy_pass ${to(ports.webshell)};`,
      ]),
      ...location('~ /terminals/(.*)/size', [...fromHeader, `    proxy_pass ${to(ports.webshell)};`]),
      ...location('/terminals', [...fromHeader, `    proxy_pass ${to(ports.webshell)};`]),
      ...location('/filer', [...fromHeader, '    client_max_body_size 8G;', `    proxy_pass ${to(ports.filer)};`]),
      ...location('/printerfiler', [...fromHeader, `    proxy_pass ${to(ports.printerfile)};`]),
      ...location('/broadcast', ['    proxy_read_timeout 1800s;', ...fromQuery, ...websocket, `    proxy_pass ${to(ports.broadcast)};`]),
      ...location('/sound', [...fromQuery, ...websocket, `    proxy_pass ${to(ports.speaker, '/')};`]),
      ...location('/microphone', [...fromQuery, ...websocket, `    proxy_pass ${to(ports.microphone, '/')};`]),
    ],
    options.port,
  );
  return {
    ...router,
    async stop() {
      await router.stop();
      await verifier.stop();
    },
  };
}

/**
 * The router's token check, as a service nginx asks (`auth_request`): 204 for a desktop JWT signed with the desktop
 * key (`Bearer ` removed, as the router does), 401 otherwise.
 */
async function startTokenVerifier(desktopKey: string): Promise<{ url: string; stop(): Promise<void> }> {
  const verifier = tokenAuthenticator({ JWT_PUBLIC_KEY: desktopKey, JWT_ANY_DESKTOP: true });
  const server = createServer((request, response) => {
    const presented = String(request.headers['x-desktop-token'] ?? '').replace(/^Bearer /, '');
    verifier
      .authenticate({ headers: { authorization: `Bearer ${presented}` }, query: '', remoteAddress: undefined })
      .then((decision) => response.writeHead(decision.ok ? 204 : 401).end())
      .catch(() => response.writeHead(500).end());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
