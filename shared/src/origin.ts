import type { IncomingHttpHeaders } from 'node:http';
import type { CommonConfig } from './config.js';

export type OriginDecision = { ok: true } | { ok: false; reason: string };

/** Which browser origins may drive an agent (a page opened inside the desktop, or anywhere else, may not). */
export interface OriginPolicy {
  check(headers: IncomingHttpHeaders): OriginDecision;
}

export type OriginSettings = Pick<CommonConfig, 'ALLOWED_ORIGINS' | 'EXTERNAL_DESKTOP_HOSTNAME'>;

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

function hostOf(origin: string): string {
  return new URL(origin).host;
}

/**
 * A browser names the page that makes a request in `Origin` (every WebSocket, every non-GET fetch and form) and, in
 * current browsers, says `Sec-Fetch-Site: cross-site` for another site's page. Allowed: the origin of the host the
 * request was sent to (`Host`, or `X-Forwarded-Host` from a proxy: a page cannot set either), ALLOWED_ORIGINS, and
 * https://EXTERNAL_DESKTOP_HOSTNAME. A request with no Origin and no cross-site mark is not a browser page's: it
 * goes on to authentication.
 */
export function originPolicy(settings: OriginSettings): OriginPolicy {
  const listed = new Set<string>();
  for (const entry of settings.ALLOWED_ORIGINS.split(',')) {
    const origin = entry.trim() ? normalizeOrigin(entry.trim()) : undefined;
    if (origin) listed.add(origin);
  }
  if (settings.EXTERNAL_DESKTOP_HOSTNAME) {
    const origin = normalizeOrigin(`https://${settings.EXTERNAL_DESKTOP_HOSTNAME}`);
    if (origin) listed.add(origin);
  }
  return {
    check(headers) {
      const raw = first(headers.origin);
      if (raw === undefined) {
        return first(headers['sec-fetch-site']) === 'cross-site' ? { ok: false, reason: 'cross-site request' } : { ok: true };
      }
      const origin = raw === 'null' ? undefined : normalizeOrigin(raw);
      if (!origin) return { ok: false, reason: 'opaque or malformed Origin' };
      if (listed.has(origin)) return { ok: true };
      const host = hostOf(origin);
      const targets = [first(headers.host), first(headers['x-forwarded-host'])?.split(',')[0]?.trim()];
      if (targets.some((t) => t !== undefined && t.toLowerCase() === host)) return { ok: true };
      return { ok: false, reason: 'Origin not allowed' };
    },
  };
}
