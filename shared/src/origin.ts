import type { IncomingHttpHeaders } from 'node:http';
import type { CommonConfig } from './config.js';
import { routerPeers, type Resolve, type RouterPeers } from './router.js';

/** A refusal says why, and which setting would admit that caller (for the log line, never the reply). */
export type OriginDecision = { ok: true } | { ok: false; reason: string; admit?: string };

/** What the rule reads of a request: its headers and the peer that sent it. */
export interface OriginRequest {
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
}

/** Which browser origins may drive an agent (a page opened inside the desktop, or anywhere else, may not). */
export interface OriginPolicy {
  check(request: OriginRequest): Promise<OriginDecision>;
}

export type OriginSettings = Pick<CommonConfig, 'ALLOWED_ORIGINS' | 'EXTERNAL_DESKTOP_HOSTNAME' | 'NGINX_SERVICE_HOST' | 'HTTP_ROUTER_SERVICE_HOST'> &
  Partial<Pick<CommonConfig, 'AUTH_MODE'>>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `scheme://host[:port]` as a browser writes it in Origin (lower case, no path), or undefined when malformed. */
function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/**
 * A browser names the page that makes a request in `Origin` (every WebSocket, every non-GET fetch and form) and, in
 * current browsers, says in `Sec-Fetch-Site` how that page relates to the address it calls. Allowed:
 * - the origin of the host the request was sent to (`Host`, or `X-Forwarded-Host` from a proxy: a page can set
 *   neither), ALLOWED_ORIGINS, and https://EXTERNAL_DESKTOP_HOSTNAME;
 * - in abcdesktop mode, from abcdesktop's router only (the peer NGINX_SERVICE_HOST/HTTP_ROUTER_SERVICE_HOST names),
 *   the public site's pages, whose Origin the pod is never told (the router rewrites `Host` to the pod's address).
 *   The router forwards a request only with a desktop JWT it verified and whose encrypted claim names this pod, and
 *   the web UI sends that token itself (a header or the query, never a cookie), so a page of another site that does
 *   not hold the token never gets here. Where the browser says more, it is held to it: a request it marks
 *   `Sec-Fetch-Site` other than `same-origin` is refused (every fetch and form; Chromium sends none on WebSocket
 *   handshakes, Firefox does).
 * A request with no Origin and no cross-site mark is not a browser page's: it goes on to authentication.
 */
export function originPolicy(settings: OriginSettings, resolve?: Resolve): OriginPolicy {
  const listed = new Set<string>();
  for (const entry of settings.ALLOWED_ORIGINS.split(',')) {
    const origin = entry.trim() ? normalizeOrigin(entry.trim()) : undefined;
    if (origin) listed.add(origin);
  }
  if (settings.EXTERNAL_DESKTOP_HOSTNAME) {
    const origin = normalizeOrigin(`https://${settings.EXTERNAL_DESKTOP_HOSTNAME}`);
    if (origin) listed.add(origin);
  }
  const router: RouterPeers | undefined = settings.AUTH_MODE === 'abcdesktop' ? routerPeers(settings, resolve) : undefined;
  const fromRouter = async (address: string | undefined): Promise<boolean> => {
    if (!router?.host) return false;
    // a router host that does not resolve vouches for nobody
    return router.includes(address).catch(() => false);
  };
  return {
    async check({ headers, remoteAddress }) {
      const raw = first(headers.origin);
      const site = first(headers['sec-fetch-site']);
      if (raw === undefined) return site === 'cross-site' ? { ok: false, reason: 'cross-site request' } : { ok: true };
      const origin = raw === 'null' ? undefined : normalizeOrigin(raw);
      if (!origin) return { ok: false, reason: 'opaque or malformed Origin' };
      if (listed.has(origin)) return { ok: true };
      const host = new URL(origin).host;
      const targets = [first(headers.host), first(headers['x-forwarded-host'])?.split(',')[0]?.trim()];
      if (targets.some((t) => t !== undefined && t.toLowerCase() === host)) return { ok: true };
      if ((site === undefined || site === 'same-origin') && (await fromRouter(remoteAddress))) return { ok: true };
      return { ok: false, reason: 'Origin not allowed', admit: `ALLOWED_ORIGINS=${origin}` };
    },
  };
}
