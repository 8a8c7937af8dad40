import { describe, expect, it } from 'vitest';
import { originPolicy, type OriginSettings } from '../src/index.js';

// abcdesktop's router (10.9.9.9) rewrites Host to the pod's ip:port and forwards the browser's Origin and Sec-Fetch-Site
const ROUTER = '10.9.9.9';
const resolve = async (host: string) => (host === 'router.abcdesktop' ? [ROUTER] : []);
const abcdesktop: OriginSettings = { AUTH_MODE: 'abcdesktop', ALLOWED_ORIGINS: '', NGINX_SERVICE_HOST: 'router.abcdesktop' };
const ui = { origin: 'https://desktop.example.com', host: '10.1.0.7:29784' };

describe("the Origin rule behind abcdesktop's router", () => {
  it('admits the web UI through the router: the peer is the router, and the browser says same-origin or nothing', async () => {
    const policy = originPolicy(abcdesktop, resolve);
    expect(await policy.check({ headers: { ...ui, 'sec-fetch-site': 'same-origin' }, remoteAddress: ROUTER })).toEqual({ ok: true });
    // Chromium's WebSocket handshakes carry no Sec-Fetch-Site
    expect(await policy.check({ headers: ui, remoteAddress: ROUTER })).toEqual({ ok: true });
    expect(await policy.check({ headers: { ...ui, 'sec-fetch-site': 'same-origin' }, remoteAddress: `::ffff:${ROUTER}` })).toEqual({ ok: true });
    // HTTP_ROUTER_SERVICE_HOST names it as well
    const other = originPolicy({ ...abcdesktop, NGINX_SERVICE_HOST: undefined, HTTP_ROUTER_SERVICE_HOST: 'router.abcdesktop' }, resolve);
    expect(await other.check({ headers: { ...ui, 'sec-fetch-site': 'same-origin' }, remoteAddress: ROUTER })).toEqual({ ok: true });
  });

  it('refuses through the router what the browser marks as another site, and names the setting that would admit it', async () => {
    const policy = originPolicy(abcdesktop, resolve);
    const refused = { ok: false, reason: 'Origin not allowed', admit: 'ALLOWED_ORIGINS=https://desktop.example.com' };
    for (const site of ['cross-site', 'same-site', 'none']) {
      const headers = { ...ui, ...(site ? { 'sec-fetch-site': site } : {}) };
      expect(await policy.check({ headers, remoteAddress: ROUTER }), String(site)).toEqual(refused);
    }
    expect(
      await policy.check({ headers: { origin: 'https://evil.example', host: ui.host, 'sec-fetch-site': 'cross-site' }, remoteAddress: ROUTER }),
    ).toMatchObject({
      ok: false,
      admit: 'ALLOWED_ORIGINS=https://evil.example',
    });
  });

  it('refuses a foreign Origin from any peer that is not the router, whatever it says of itself', async () => {
    const policy = originPolicy(abcdesktop, resolve);
    for (const peer of ['127.0.0.1', '10.1.0.7', '10.9.9.8', undefined]) {
      expect((await policy.check({ headers: { ...ui, 'sec-fetch-site': 'same-origin' }, remoteAddress: peer })).ok, String(peer)).toBe(false);
    }
    // a page in the desktop's own browser calling the agent directly
    const direct = { origin: 'http://evil.example', host: '127.0.0.1:29781', 'sec-fetch-site': 'cross-site' };
    expect((await policy.check({ headers: direct, remoteAddress: '127.0.0.1' })).ok).toBe(false);
  });

  it('trusts no router in token mode, nor when the router host is unset or does not resolve', async () => {
    const headers = { ...ui, 'sec-fetch-site': 'same-origin' };
    expect((await originPolicy({ ...abcdesktop, AUTH_MODE: 'token' }, resolve).check({ headers, remoteAddress: ROUTER })).ok).toBe(false);
    expect((await originPolicy({ ...abcdesktop, NGINX_SERVICE_HOST: undefined }, resolve).check({ headers, remoteAddress: ROUTER })).ok).toBe(false);
    const failing = async () => {
      throw new Error('ENOTFOUND');
    };
    expect((await originPolicy(abcdesktop, failing).check({ headers, remoteAddress: ROUTER })).ok).toBe(false);
  });

  it('admits the public origin named in ALLOWED_ORIGINS in either mode (the token mode setting behind a router)', async () => {
    for (const mode of ['token', 'abcdesktop'] as const) {
      const policy = originPolicy({ AUTH_MODE: mode, ALLOWED_ORIGINS: 'https://desktop.example.com' }, resolve);
      expect(await policy.check({ headers: ui, remoteAddress: '10.2.2.2' })).toEqual({ ok: true });
    }
  });
});
