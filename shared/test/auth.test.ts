import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
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
    const auth = tokenAuthenticator({ JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n'), JWT_SUBJECT: 'alice' });
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

/** A compact JWT signed with node:crypto (jose refuses to sign with an RSA key under 2048 bits). */
function signRsa(claims: Record<string, unknown>, key: KeyObject, alg: 'RS256' | 'RS512' = 'RS256'): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${cryptoSign(alg === 'RS256' ? 'sha256' : 'sha512', Buffer.from(input), key).toString('base64url')}`;
}

describe("the operator's desktop signing key and abcdesktop's tokens", () => {
  const now = () => Math.floor(Date.now() / 1000);
  // what abcdesktop's control plane mints: { key, nfb, hash, exp }, RS256, a 3-minute exp, no iat, sub or aud
  const abcdesktopClaims = () => ({ key: 'desktop-alice', nfb: now(), hash: 'bG9jYWwgcG9kIGFkZHJlc3MgZW5jcnlwdGVk', exp: now() + 180 });
  const pair = (bits: number) => {
    const keys = generateKeyPairSync('rsa', { modulusLength: bits });
    return { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey: keys.privateKey };
  };
  const ws = (token: string) => caller({ query: `jwt_token=${token}`, upgrade: true });

  it.each([1024, 2048])("accepts exactly abcdesktop's token shape with a %i-bit key (JWT_ANY_DESKTOP), and refuses forged and expired ones", async (bits) => {
    const { publicKey, privateKey } = pair(bits);
    const auth = tokenAuthenticator({ JWT_PUBLIC_KEY: publicKey, JWT_ANY_DESKTOP: true });
    expect(await auth.authenticate(ws(signRsa(abcdesktopClaims(), privateKey)))).toEqual({ ok: true, principal: { kind: 'jwt', subject: undefined } });
    expect(await auth.authenticate(caller({ headers: { abcauthorization: `Bearer ${signRsa(abcdesktopClaims(), privateKey)}` } }))).toMatchObject({ ok: true });
    const forged = signRsa(abcdesktopClaims(), pair(bits).privateKey);
    expect(await auth.authenticate(ws(forged))).toEqual({ ok: false, reason: expect.stringContaining('signature') });
    const expired = signRsa({ ...abcdesktopClaims(), exp: now() - 5 }, privateKey);
    expect(await auth.authenticate(ws(expired))).toEqual({ ok: false, reason: expect.stringContaining('"exp"') });
    const noExp = signRsa({ key: 'desktop-alice', hash: 'x' }, privateKey);
    expect(await auth.authenticate(ws(noExp))).toEqual({ ok: false, reason: expect.stringContaining('"exp"') });
    // warned of, in the log and on the status page, only under 2048 bits
    expect(auth.warnings?.some((w) => w.includes(`${bits}-bit RSA key`))).toBe(bits < 2048);
  });

  it('checks the claims and the algorithm on the small-key path as jose does on the other', async () => {
    const { publicKey, privateKey } = pair(1024);
    const auth = tokenAuthenticator({ JWT_PUBLIC_KEY: publicKey, JWT_SUBJECT: 'alice', JWT_AUDIENCE: 'pod-a', JWT_MAX_AGE: 3600 });
    const claims = { sub: 'alice', aud: 'pod-a', exp: now() + 60 };
    expect((await auth.authenticate(ws(signRsa(claims, privateKey)))).ok).toBe(true);
    expect((await auth.authenticate(ws(signRsa(claims, privateKey, 'RS512')))).ok).toBe(true);
    expect(await auth.authenticate(ws(signRsa({ ...claims, sub: 'bob' }, privateKey)))).toEqual({ ok: false, reason: expect.stringContaining('"sub"') });
    expect(await auth.authenticate(ws(signRsa({ ...claims, aud: 'pod-b' }, privateKey)))).toEqual({ ok: false, reason: expect.stringContaining('"aud"') });
    expect((await auth.authenticate(ws(signRsa({ ...claims, nbf: now() + 60 }, privateKey)))).ok).toBe(false);
    expect((await auth.authenticate(ws(signRsa({ ...claims, exp: now() + 7200 }, privateKey)))).ok).toBe(false);
    // the header's algorithm must be the key's: none and HMAC are refused
    const [, body, signature] = signRsa(claims, privateKey).split('.');
    for (const alg of ['none', 'HS256']) {
      const head = Buffer.from(JSON.stringify({ alg })).toString('base64url');
      expect(await auth.authenticate(ws(`${head}.${body}.${signature}`))).toEqual({ ok: false, reason: expect.stringContaining('"alg"') });
    }
  });

  it('refuses to start where a token of any desktop would open this one, or where the key is under JWT_MIN_RSA_BITS, naming the fix', () => {
    const { publicKey } = pair(1024);
    expect(() => tokenAuthenticator({ JWT_PUBLIC_KEY: publicKey })).toThrow(/JWT_SUBJECT \(or JWT_AUDIENCE\).*JWT_ANY_DESKTOP=true/);
    expect(() => tokenAuthenticator({ JWT_PUBLIC_KEY: publicKey, JWT_ANY_DESKTOP: true, JWT_MIN_RSA_BITS: 2048 })).toThrow(
      /1024-bit RSA key, under JWT_MIN_RSA_BITS=2048.*openssl genrsa 2048/,
    );
    expect(tokenAuthenticator({ JWT_PUBLIC_KEY: pair(2048).publicKey, JWT_SUBJECT: 'alice', JWT_MIN_RSA_BITS: 2048 }).warnings).toEqual([]);
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
