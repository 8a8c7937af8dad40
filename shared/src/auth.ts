import { createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { CommonConfig } from './config.js';

/** What a caller showed us, taken from an HTTP request or a WebSocket upgrade. */
export interface CallerCredentials {
  headers: Record<string, string | string[] | undefined>;
  /** The raw query string without '?', or '' */
  query: string;
  remoteAddress: string | undefined;
  /**
   * A WebSocket upgrade: the only place a token is read from the query string (a browser cannot set headers on a
   * WebSocket). On plain HTTP a token in the URL would land in proxies' logs and browser history: headers only.
   */
  upgrade?: boolean;
}

export type Principal =
  /** Another agent of the pod: BROADCAST_COOKIE, or (abcdesktop mode) the pod's own address. */
  | { kind: 'local' }
  /** Token mode: the shared secret. */
  | { kind: 'token' }
  /** Token mode: a desktop JWT verified with JWT_PUBLIC_KEY. */
  | { kind: 'jwt'; subject: string | undefined }
  /** abcdesktop mode: the router or an unfiltered caller. */
  | { kind: 'remote' };

export type AuthDecision = { ok: true; principal: Principal } | { ok: false; reason: string };

export interface Authenticator {
  authenticate(caller: CallerCredentials): Promise<AuthDecision>;
}

/** The credentials of a raw HTTP request or WebSocket upgrade. */
export function credentialsOfRequest(request: IncomingMessage, upgrade = false): CallerCredentials {
  const url = request.url ?? '';
  const q = url.indexOf('?');
  return { headers: request.headers, query: q >= 0 ? url.slice(q + 1) : '', remoteAddress: request.socket.remoteAddress, upgrade };
}

const QUERY_TOKEN_NAMES = ['jwt_token', 'token', 'access_token'];

function header(caller: CallerCredentials, name: string): string | undefined {
  const v = caller.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bearer(value: string | undefined): string | undefined {
  const m = value ? /^Bearer\s+(\S+)$/i.exec(value.trim()) : null;
  return m?.[1];
}

/**
 * Every place the web UI puts its token: `Authorization`/`ABCAuthorization: Bearer`, `?jwt_token=` on the bus,
 * and webshell's attach where the whole query string is the token.
 */
export function presentedTokens(caller: CallerCredentials): string[] {
  const found = [bearer(header(caller, 'authorization')), bearer(header(caller, 'abcauthorization'))];
  if (caller.upgrade && caller.query) {
    const params = new URLSearchParams(caller.query);
    for (const name of QUERY_TOKEN_NAMES) found.push(params.get(name) ?? undefined);
    if (!caller.query.includes('=') && !caller.query.includes('&')) found.push(decodeOrUndefined(caller.query));
  }
  return found.filter((t): t is string => typeof t === 'string' && t.length > 0);
}

/** Malformed percent-encoding (`%`, `%zz`) is no token, never an exception. */
function decodeOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function cookieMatches(caller: CallerCredentials, cookie: string | undefined): boolean {
  const presented = header(caller, 'broadcast_cookie');
  return cookie !== undefined && presented !== undefined && sameSecret(presented, cookie);
}

/** JWT_PUBLIC_KEY may come through env with literal "\n" sequences; accept both forms. */
export function parsePublicKey(pem: string): KeyObject {
  return createPublicKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
}

/** The JWT algorithms a key can verify: a key is never used with another algorithm family (no alg confusion). */
export function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const alg =
        curve === 'prime256v1' || curve === 'P-256'
          ? 'ES256'
          : curve === 'secp384r1' || curve === 'P-384'
            ? 'ES384'
            : curve === 'secp521r1' || curve === 'P-521'
              ? 'ES512'
              : undefined;
      if (!alg) throw new Error(`JWT_PUBLIC_KEY: unsupported EC curve ${curve ?? '?'}`);
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${key.asymmetricKeyType ?? '?'}`);
  }
}

type TokenConfig = Pick<CommonConfig, 'AUTH_TOKEN' | 'JWT_PUBLIC_KEY' | 'BROADCAST_COOKIE'> &
  Partial<Pick<CommonConfig, 'JWT_MAX_AGE' | 'JWT_AUDIENCE' | 'JWT_SUBJECT'>>;

/** Verifies a desktop JWT: signature with the pinned algorithms, `exp` required, a bounded lifetime, aud/sub when set. */
function jwtVerifier(config: TokenConfig, key: KeyObject): Promise<(token: string) => Promise<{ subject: string | undefined }>> {
  const algorithms = algorithmsFor(key);
  const maxAge = config.JWT_MAX_AGE ?? DEFAULT_JWT_MAX_AGE;
  // jose is loaded only when a key is configured: agents on a shared secret do not carry it in memory
  return import('jose').then((jose) => async (token: string) => {
    const { payload } = await jose.jwtVerify(token, key, {
      algorithms,
      requiredClaims: ['exp'],
      ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
      ...(config.JWT_SUBJECT ? { subject: config.JWT_SUBJECT } : {}),
    });
    const now = Math.floor(Date.now() / 1000);
    const issued = typeof payload.iat === 'number' ? Math.min(payload.iat, now) : now;
    if ((payload.exp ?? 0) - issued > maxAge) throw new Error('token lifetime is over JWT_MAX_AGE');
    return { subject: payload.sub };
  });
}

/** A desktop JWT may live one day at most unless JWT_MAX_AGE says otherwise (seconds). */
export const DEFAULT_JWT_MAX_AGE = 24 * 3600;

export function tokenAuthenticator(config: TokenConfig): Authenticator {
  const key = config.JWT_PUBLIC_KEY ? parsePublicKey(config.JWT_PUBLIC_KEY) : undefined;
  const verifier = key ? jwtVerifier(config, key) : undefined;
  return {
    async authenticate(caller) {
      if (cookieMatches(caller, config.BROADCAST_COOKIE)) return { ok: true, principal: { kind: 'local' } };
      const tokens = presentedTokens(caller);
      if (tokens.length === 0) return { ok: false, reason: 'missing credentials' };
      let reason = 'invalid credentials';
      for (const token of tokens) {
        if (config.AUTH_TOKEN && sameSecret(token, config.AUTH_TOKEN)) return { ok: true, principal: { kind: 'token' } };
        if (verifier && token.split('.').length === 3) {
          try {
            const { subject } = await (await verifier)(token);
            return { ok: true, principal: { kind: 'jwt', subject } };
          } catch (err) {
            // try the next presented token; the reason names the last refusal (never the token)
            reason = `invalid token: ${err instanceof Error ? err.message : 'refused'}`;
          }
        }
      }
      return { ok: false, reason };
    },
  };
}

/**
 * abcdesktop's rule, for a drop-in swap behind its router: local callers (exactly the pod's own address, or the
 * broadcast cookie; never the whole loopback range, where a proxy or a browser on the same host also sits) pass;
 * others pass only from the router's address when NGINX_SERVICE_HOST/HTTP_ROUTER_SERVICE_HOST is set, and everyone
 * passes when neither is set or DISABLE_REMOTEIP_FILTERING=enabled. Tokens are not checked.
 */
export function abcdesktopAuthenticator(
  config: Pick<CommonConfig, 'CONTAINER_IP_ADDR' | 'BROADCAST_COOKIE' | 'NGINX_SERVICE_HOST' | 'HTTP_ROUTER_SERVICE_HOST' | 'DISABLE_REMOTEIP_FILTERING'>,
  resolve: (host: string) => Promise<string[]> = async (host) => (isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)),
): Authenticator {
  const routerHost = config.NGINX_SERVICE_HOST || config.HTTP_ROUTER_SERVICE_HOST;
  return {
    async authenticate(caller) {
      const address = normalizeAddress(caller.remoteAddress);
      if (cookieMatches(caller, config.BROADCAST_COOKIE)) return { ok: true, principal: { kind: 'local' } };
      if (address === normalizeAddress(config.CONTAINER_IP_ADDR)) return { ok: true, principal: { kind: 'local' } };
      if (config.DISABLE_REMOTEIP_FILTERING === 'enabled' || !routerHost) return { ok: true, principal: { kind: 'remote' } };
      let allowed: string[];
      try {
        allowed = await resolve(routerHost);
      } catch {
        return { ok: false, reason: 'router host does not resolve' };
      }
      return allowed.map(normalizeAddress).includes(address) ? { ok: true, principal: { kind: 'remote' } } : { ok: false, reason: 'address not allowed' };
    },
  };
}

export function createAuthenticator(config: CommonConfig): Authenticator {
  return config.AUTH_MODE === 'abcdesktop' ? abcdesktopAuthenticator(config) : tokenAuthenticator(config);
}
