import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import type { ContainerPod } from '@desktop-agents/tools/container-pod';
import { freePort, launchChromium, repoRoot, startRouter, waitFor, type NginxServer, type RouterUpstream } from '@desktop-agents/tools/harness';

/** One desktop as the router reaches it: a host pod or a container pod, in one of its layouts. */
export interface RoutedDesktop {
  /** abcdesktop mode (the router's address and the browser's same-origin admit the UI) or token mode (ALLOWED_ORIGINS). */
  mode: 'abcdesktop' | 'token';
  upstream: RouterUpstream;
  /** Where the router's connections to the pod come from, when it must be set (the host pod's other loopback address). */
  bind?: string;
  /** The broadcast cookie the pod's own services present on the bus. */
  cookie: string;
  /** The printer queue a terminal's `lp` prints to (its default when unset). */
  printer?: string;
  /** Writes a file into the user's home, as a program of the desktop would. */
  writeHome(path: string, text: string): Promise<void>;
  /** A POST from inside the pod (a peer that is not the router) with these headers: its status. */
  postFromThePod(port: number, path: string, headers: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** Where the router finds each service of a desktop at `host`: the agents by name, the 4.x speaker and microphone. */
export function upstreamOf(host: string, agentPort: (name: string) => number, speaker: number, microphone: number): RouterUpstream {
  const agents = ['spawner', 'broadcast', 'webshell', 'filer', 'printerfile'] as const;
  return {
    host,
    ports: { ...(Object.fromEntries(agents.map((name) => [name, agentPort(name)])) as Record<(typeof agents)[number], number>), speaker, microphone },
  };
}

/** A container pod (already running, stopped by its owner) as the router reaches it. */
export function containerDesktop(pod: ContainerPod, mode: RoutedDesktop['mode'], bind?: string): RoutedDesktop {
  return {
    mode,
    cookie: pod.cookie,
    ...(bind ? { bind } : {}),
    upstream: upstreamOf(pod.ip, (name) => Number(new URL(pod.url(name)).port), 29788, 29789),
    async writeHome(path, text) {
      await pod.exec('graphical', ['sh', '-c', 'mkdir -p "$(dirname "$HOME/$0")" && cat > "$HOME/$0"', path], { input: text });
    },
    async postFromThePod(target, path, headers) {
      // the pod's own node (layered into the desktop image): a peer on the pod's loopback
      const script = `fetch('http://127.0.0.1:${target}${path}', { method: 'POST', headers: ${JSON.stringify(headers)} }).then((r) => console.log(r.status))`;
      return Number((await pod.exec('graphical', ['/opt/desktop-agents/bin/node', '-e', script])).trim());
    },
    stop: async () => undefined,
  };
}

/** The public site (the router's own address) and the address its connections to a host pod come from. */
export const PUBLIC_ADDRESS = '127.0.0.2';
export const ROUTER_PEER = '127.0.0.3';
/** Another site (a page that is not the desktop's). */
const ELSEWHERE = '127.0.0.4';

export interface RouterDesktopKey {
  /** The desktop signing key's public half (PEM), as an operator configures JWT_PUBLIC_KEY. */
  publicKey: string;
  privateKey: KeyObject;
}

/** abcdesktop's install guides make the desktop JWT key with `openssl genrsa ... 1024`. */
export function operatorKey(bits = 1024): RouterDesktopKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey };
}

/** A desktop JWT as abcdesktop's control plane mints it: { key, nfb, hash, exp }, RS256, 3 minutes, no iat, sub or aud. */
export function abcdesktopToken(key: RouterDesktopKey): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ key: 'desktop-alice', nfb: now, hash: 'ZW5jcnlwdGVkIGZvciB0aGUgcm91dGVy', exp: now + 180 })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

const ui = <T>(page: Page, expression: string) => page.evaluate<T>(expression);

/** What a pod must be told before it starts behind the router: the desktop signing key, and the public site's origin. */
export interface RouterDeployment {
  key: RouterDesktopKey;
  /** http://127.0.0.2:<port>, the same on every call (the port is taken on the first). */
  publicOrigin(): Promise<string>;
}

export function routerDeployment(): RouterDeployment {
  const key = operatorKey();
  let origin: Promise<string> | undefined;
  return { key, publicOrigin: () => (origin ??= freePort(PUBLIC_ADDRESS).then((port) => `http://${PUBLIC_ADDRESS}:${port}`)) };
}

/**
 * abcdesktop's web UI, as plain calls from a page of the public site (nginx shaped like abcdesktop's router in front
 * of the desktop), with the browser's own headers: the bus, a terminal, the file routes as Dropzone and the panels
 * call them, a print, the 4.x speaker and microphone; then what must stay refused.
 */
export function describeBehindRouter(title: string, deployment: RouterDeployment, start: () => Promise<RoutedDesktop>, timeoutMs = 60_000): void {
  describe(title, () => {
    let desktop: RoutedDesktop;
    let router: NginxServer;
    let browser: Browser;
    let page: Page;
    let elsewhere: Server;
    let elsewhereUrl: string;
    const { key } = deployment;

    beforeAll(async () => {
      const port = Number(new URL(await deployment.publicOrigin()).port);
      desktop = await start();
      router = await startRouter({
        site: join(repoRoot(), 'test', 'fixtures', 'router-site'),
        upstream: desktop.upstream,
        listen: PUBLIC_ADDRESS,
        port,
        desktopKey: key.publicKey,
        ...(desktop.bind ? { bind: desktop.bind } : {}),
      });
      elsewhere = createServer((_request, response) =>
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title>'),
      );
      const otherPort = await freePort(ELSEWHERE);
      await new Promise<void>((resolve) => elsewhere.listen(otherPort, ELSEWHERE, resolve));
      elsewhereUrl = `http://${ELSEWHERE}:${otherPort}`;
      browser = await launchChromium();
      page = await browser.newPage();
      await page.goto(`${router.url}/#token=${abcdesktopToken(key)}`);
      await page.waitForFunction('window.ui !== undefined');
    }, timeoutMs * 3);
    afterAll(async () => {
      await browser?.close();
      elsewhere?.close();
      await router?.stop();
      await desktop?.stop();
    }, timeoutMs);

    it('relays a hello on the bus and counts browsers as they join and leave (connect.counter)', async () => {
      const first = await ui<number>(page, 'ui.openBus()');
      await ui(page, `ui.send(${first}, { method: 'hello', user: { name: 'alice' } })`);
      await waitFor('the hello relayed', async () =>
        ui<boolean>(page, `ui.events.some((e) => e.socket === ${first} && e.method === 'hello' && e.user.name === 'alice')`),
      );
      // the browsers already on the bus (other tabs of the pod's test) plus this one, as the bus counted at its join
      const latest = () => ui<number | undefined>(page, `ui.events.filter((e) => e.socket === ${first} && e.method === 'connect.counter').at(-1)?.data`);
      const base = await waitFor('connect.counter at the join', latest);
      const second = await ui<number>(page, 'ui.openBus()');
      await waitFor(`connect.counter ${base + 1}`, async () => (await latest()) === base + 1);
      await ui(page, `ui.close(${second})`);
      await waitFor(`connect.counter back to ${base}`, async () => (await latest()) === base);
      expect(await ui(page, 'ui.closes.filter((c) => c.code !== 1000 && c.code !== 1005)')).toEqual([]);
    });

    it('fetches a download a local service sends on the bus through /filer?file=', async () => {
      const text = `downloaded through the router ${Date.now()}`;
      await desktop.writeHome('Desktop/report.txt', text);
      const { host, ports } = desktop.upstream;
      const service = new WebSocket(`ws://${host}:${ports.broadcast}/`, { headers: { broadcast_cookie: desktop.cookie } });
      await new Promise((resolve, reject) => service.once('open', resolve).once('error', reject));
      try {
        service.send(JSON.stringify({ method: 'download', data: '~/Desktop/report.txt' }));
        await waitFor('the download fetched', async () => ui<boolean>(page, 'ui.downloads.length > 0'));
        expect(await ui(page, 'ui.downloads')).toEqual([{ status: 200, text }]);
      } finally {
        service.close();
      }
    });

    it('opens a terminal (POST /terminals, attach with the JWT as the query), types, resizes it, and prints from it', async () => {
      const pid = await ui<number>(page, 'ui.terminal(80, 24)');
      const screen = () => ui<string>(page, `ui.screen(${pid})`);
      await ui(page, `ui.type(${pid}, 'stty size; echo router-$((6*7))\\r')`);
      await expect.poll(screen, { timeout: 15_000 }).toMatch(/^router-42\r?$/m);
      expect(await screen()).toMatch(/^24 80\r?$/m);
      expect(await ui(page, `ui.resize(${pid}, 100, 40)`)).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
      await ui(page, `ui.type(${pid}, 'stty size\\r')`);
      await expect.poll(screen, { timeout: 10_000 }).toMatch(/^40 100\r?$/m);
      // a print from the desktop: printer.new on the bus, the PDF through /printerfiler
      const bus = await ui<number>(page, 'ui.openBus()');
      const lp = `lp ${desktop.printer ? `-d ${desktop.printer} ` : ''}~/router-print.txt`;
      await ui(page, `ui.type(${pid}, 'echo printed behind the router > ~/router-print.txt && ${lp}\\r')`);
      await expect.poll(screen, { timeout: 20_000 }).toMatch(/request id is \S+-\d+/);
      await waitFor('printer.new', async () => ui<boolean>(page, `ui.events.some((e) => e.socket === ${bus} && e.method === 'printer.new')`), 30_000);
      const printed = await ui<string>(page, `ui.events.find((e) => e.socket === ${bus} && e.method === 'printer.new').data.path`);
      const pdf = await ui<{ status: number; head: string }>(page, `ui.download(${JSON.stringify(`~/${printed}`)}, '/printerfiler')`);
      expect(pdf.status).toBe(200);
      expect(pdf.head.startsWith('%PDF-')).toBe(true);
    });

    it('uploads as Dropzone does, lists, downloads and deletes through /filer', async () => {
      expect(await ui(page, `ui.upload('Desktop/dropped.txt', 'dropped in the browser')`)).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
      const listed = await ui<{ status: number; body: string[] }>(page, `ui.list('~/Desktop')`);
      expect(listed.status).toBe(200);
      expect(listed.body).toContain('dropped.txt');
      expect(await ui(page, `ui.download('~/Desktop/dropped.txt')`)).toEqual({ status: 200, head: 'dropped in the browser' });
      expect(await ui(page, `ui.remove('~/Desktop/dropped.txt')`)).toEqual({ status: 200, body: { code: 200, data: 'ok' } });
      expect((await ui<{ body: string[] }>(page, `ui.list('~/Desktop')`)).body).not.toContain('dropped.txt');
    });

    it("answers the spawner's routes (Host: the public host without its port)", async () => {
      expect(await ui(page, `ui.spawner('getSettings')`)).toMatchObject({ status: 200, body: { code: 200 } });
    });

    it("plays the desktop's sound to the 4.x speaker (MPEG-TS on /sound) and takes the microphone (/microphone)", async () => {
      await ui(page, 'ui.listen()');
      await waitFor('MPEG-TS frames', async () => ui<boolean>(page, 'ui.speaker.frames >= 3'), 20_000);
      expect(await ui(page, 'ui.speaker.aligned')).toBe(true);
      const talked = await ui<{ sent: number; open: boolean }>(page, 'ui.talk(1000)');
      expect(talked.open).toBe(true);
      expect(talked.sent).toBeGreaterThan(10);
    });

    it("refuses another site's page through the router, and a page in the desktop's browser calling the agents directly", async () => {
      const other = await browser.newPage();
      try {
        await other.goto(`${elsewhereUrl}/`);
        const closeOf = (url: string) =>
          other.evaluate<{ code: number; reason: string }>(
            `new Promise((resolve) => { const ws = new WebSocket(${JSON.stringify(url)}); ws.onclose = (e) => resolve({ code: e.code, reason: e.reason }); })`,
          );
        // it holds no desktop JWT (the UI keeps it, no cookie carries it): the router forwards nothing
        expect(await closeOf(`${router.url.replace('http', 'ws')}/broadcast`)).toEqual({ code: 1006, reason: '' });
        // a page in the desktop's own browser calling an agent directly, even with the token
        const token = encodeURIComponent(abcdesktopToken(key));
        const { host, ports } = desktop.upstream;
        expect(await closeOf(`ws://${host}:${ports.broadcast}/?jwt_token=${token}`)).toEqual({ code: 1008, reason: 'origin not allowed' });
        expect(await closeOf(`ws://${host}:${ports.webshell}/terminals/1?${token}`)).toEqual({ code: 1008, reason: 'origin not allowed' });
      } finally {
        await other.close();
      }
      // what a cross-site fetch with the token sends through the router: refused before anything is done
      const crossSite = await fetch(`${router.url}/terminals?cols=80&rows=24`, {
        method: 'POST',
        headers: { origin: elsewhereUrl, 'sec-fetch-site': 'cross-site', abcauthorization: `Bearer ${abcdesktopToken(key)}` },
      });
      expect(crossSite.status).toBe(403);
      expect(await crossSite.json()).toEqual({ code: 403, data: 'Forbidden: Origin not allowed' });
      const { ports } = desktop.upstream;
      if (desktop.mode === 'abcdesktop') {
        // a peer that is not the router, claiming to be the public site's page
        expect(await desktop.postFromThePod(ports.webshell, '/terminals?cols=80&rows=24', { origin: router.url, 'sec-fetch-site': 'same-origin' })).toBe(403);
      } else {
        // the public origin is admitted, and the token still decides
        const untokened = await fetch(`${router.url}/terminals?cols=80&rows=24`, {
          method: 'POST',
          headers: { origin: router.url, 'sec-fetch-site': 'same-origin' },
        });
        expect(untokened.status).toBe(401);
      }
    });
  });
}
