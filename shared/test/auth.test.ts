import { describe, expect, it } from 'vitest';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { abcdesktopAuthenticator, presentedTokens, tokenAuthenticator, type CallerCredentials } from '../src/index.js';

const caller = (over: Partial<CallerCredentials> = {}): CallerCredentials => ({ headers: {}, query: '', remoteAddress: '10.1.2.3', ...over });
const SECRET = 'a-shared-secret-of-some-length';

describe('presentedTokens', () => {
  it('finds the token wherever the web UI puts it', () => {
    expect(presentedTokens(caller({ headers: { authorization: 'Bearer A' } }))).toEqual(['A']);
    expect(presentedTokens(caller({ headers: { abcauthorization: 'bearer B' } }))).toEqual(['B']);
    expect(presentedTokens(caller({ query: 'jwt_token=C', upgrade: true }))).toEqual(['C']);
    expect(presentedTokens(caller({ query: 'x.y.z', upgrade: true }))).toEqual(['x.y.z']);
    expect(presentedTokens(caller({ headers: { authorization: 'Basic abc' } }))).toEqual([]);
  });

  it('reads the query only on WebSocket upgrades, and malformed percent-encoding is no token', () => {
    expect(presentedTokens(caller({ query: 'jwt_token=C' }))).toEqual([]);
    expect(presentedTokens(caller({ query: 'x.y.z' }))).toEqual([]);
    for (const query of ['%', '%zz', '%E0%A4%A', 'jwt_token=%']) expect(() => presentedTokens(caller({ query, upgrade: true }))).not.toThrow();
    expect(presentedTokens(caller({ query: '%', upgrade: true }))).toEqual([]);
  });
});

describe('token mode', () => {
  it('accepts the shared secret and refuses others', async () => {
    const auth = tokenAuthenticator({ AUTH_TOKEN: SECRET });
    expect(await auth.authenticate(caller({ headers: { authorization: `Bearer ${SECRET}` } }))).toEqual({ ok: true, principal: { kind: 'token' } });
    expect(await auth.authenticate(caller({ headers: { authorization: `Bearer ${SECRET}x` } }))).toEqual({ ok: false, reason: 'invalid credentials' });
    expect(await auth.authenticate(caller())).toEqual({ ok: false, reason: 'missing credentials' });
  });

  it('does not let a loopback address in without credentials', async () => {
    const auth = tokenAuthenticator({ AUTH_TOKEN: SECRET });
    expect((await auth.authenticate(caller({ remoteAddress: '127.0.0.1' }))).ok).toBe(false);
  });

  it('verifies a desktop JWT with the configured public key, and refuses one signed by another key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const auth = tokenAuthenticator({ JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n') });
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('alice').setExpirationTime('1h').sign(privateKey);
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('alice').sign(other.privateKey);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(privateKey);
    const ws = (query: string) => caller({ query, upgrade: true });
    expect(await auth.authenticate(ws(`jwt_token=${jwt}`))).toEqual({ ok: true, principal: { kind: 'jwt', subject: 'alice' } });
    expect((await auth.authenticate(ws(jwt))).ok).toBe(true);
    expect((await auth.authenticate(ws(`jwt_token=${forged}`))).ok).toBe(false);
    expect((await auth.authenticate(ws(`jwt_token=${expired}`))).ok).toBe(false);
  });

  it('requires exp, bounds the lifetime, pins the algorithm and checks aud/sub when set', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const sign = (claims: Record<string, unknown>, exp?: string) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuedAt();
      return (exp ? jwt.setExpirationTime(exp) : jwt).sign(privateKey);
    };
    const bearer = (token: string) => caller({ headers: { authorization: `Bearer ${token}` } });
    const auth = tokenAuthenticator({ JWT_PUBLIC_KEY: pem, JWT_MAX_AGE: 3600, JWT_AUDIENCE: 'pod-a', JWT_SUBJECT: 'alice' });
    expect((await auth.authenticate(bearer(await sign({ aud: 'pod-a', sub: 'alice' }, '30m')))).ok).toBe(true);
    const noExp = await auth.authenticate(bearer(await sign({ aud: 'pod-a', sub: 'alice' })));
    expect(noExp).toEqual({ ok: false, reason: expect.stringContaining('exp') });
    expect((await auth.authenticate(bearer(await sign({ aud: 'pod-a', sub: 'alice' }, '10y')))).ok).toBe(false);
    expect((await auth.authenticate(bearer(await sign({ aud: 'pod-b', sub: 'alice' }, '30m')))).ok).toBe(false);
    expect((await auth.authenticate(bearer(await sign({ aud: 'pod-a', sub: 'bob' }, '30m')))).ok).toBe(false);
    // an HMAC token "signed" with the public key as its secret (alg confusion) is refused
    const hmac = await new SignJWT({ aud: 'pod-a', sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('30m')
      .sign(new TextEncoder().encode(pem));
    expect((await auth.authenticate(bearer(hmac))).ok).toBe(false);
  });

  it('treats a matching broadcast cookie as a local agent, and an unset cookie as no match', async () => {
    const withCookie = tokenAuthenticator({ AUTH_TOKEN: SECRET, BROADCAST_COOKIE: 'cookie-1' });
    expect(await withCookie.authenticate(caller({ headers: { broadcast_cookie: 'cookie-1' } }))).toEqual({ ok: true, principal: { kind: 'local' } });
    expect((await withCookie.authenticate(caller({ headers: { broadcast_cookie: 'cookie-2' } }))).ok).toBe(false);
    const without = tokenAuthenticator({ AUTH_TOKEN: SECRET });
    expect((await without.authenticate(caller({ headers: { broadcast_cookie: '' } }))).ok).toBe(false);
  });
});

describe('abcdesktop mode', () => {
  const base = { CONTAINER_IP_ADDR: '10.0.0.5' };
  const resolve = async (host: string) => (host === 'router' ? ['10.9.9.9'] : []);

  it('lets the pod itself and the cookie in', async () => {
    const auth = abcdesktopAuthenticator({ ...base, NGINX_SERVICE_HOST: 'router', BROADCAST_COOKIE: 'c' }, resolve);
    expect(await auth.authenticate(caller({ remoteAddress: '::ffff:10.0.0.5' }))).toEqual({ ok: true, principal: { kind: 'local' } });
    // loopback is not the pod's address: a proxy or a browser on the same host is no local service
    expect(await auth.authenticate(caller({ remoteAddress: '127.0.0.1' }))).toEqual({ ok: false, reason: 'address not allowed' });
    expect(await auth.authenticate(caller({ headers: { broadcast_cookie: 'c' } }))).toEqual({ ok: true, principal: { kind: 'local' } });
  });

  it('filters on the router address only when its host is configured, unless disabled', async () => {
    const filtered = abcdesktopAuthenticator({ ...base, HTTP_ROUTER_SERVICE_HOST: 'router' }, resolve);
    expect(await filtered.authenticate(caller({ remoteAddress: '10.9.9.9' }))).toEqual({ ok: true, principal: { kind: 'remote' } });
    expect(await filtered.authenticate(caller({ remoteAddress: '10.1.1.1' }))).toEqual({ ok: false, reason: 'address not allowed' });
    const disabled = abcdesktopAuthenticator({ ...base, HTTP_ROUTER_SERVICE_HOST: 'router', DISABLE_REMOTEIP_FILTERING: 'enabled' }, resolve);
    expect((await disabled.authenticate(caller({ remoteAddress: '10.1.1.1' }))).ok).toBe(true);
    const open = abcdesktopAuthenticator(base, resolve);
    expect((await open.authenticate(caller({ remoteAddress: '10.1.1.1' }))).ok).toBe(true);
  });
});
