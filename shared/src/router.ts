import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CommonConfig } from './config.js';

export type RouterSettings = Pick<CommonConfig, 'NGINX_SERVICE_HOST' | 'HTTP_ROUTER_SERVICE_HOST'>;

/** The peers that are abcdesktop's router: the addresses NGINX_SERVICE_HOST (or HTTP_ROUTER_SERVICE_HOST) names. */
export interface RouterPeers {
  /** The host setting, or undefined when neither variable is set (then no peer is the router). */
  readonly host: string | undefined;
  /** Whether `address` is one of the router's; rejects when the host does not resolve. */
  includes(address: string | undefined): Promise<boolean>;
}

export type Resolve = (host: string) => Promise<string[]>;

const resolveHost: Resolve = async (host) => (isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address));

/** `::ffff:10.0.0.1` and `10.0.0.1` are one peer. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** A name is looked up again after this long (a router pod that moves keeps its service name). */
const RESOLVED_FOR_MS = 30_000;

export function routerPeers(settings: RouterSettings, resolve: Resolve = resolveHost): RouterPeers {
  const host = settings.NGINX_SERVICE_HOST || settings.HTTP_ROUTER_SERVICE_HOST || undefined;
  let cached: { at: number; addresses: Promise<Set<string>> } | undefined;
  const addresses = (): Promise<Set<string>> => {
    if (!host) return Promise.resolve(new Set());
    if (!cached || Date.now() - cached.at > RESOLVED_FOR_MS) {
      const lookedUp = resolve(host).then((list) => new Set(list.map(normalizeAddress)));
      cached = { at: Date.now(), addresses: lookedUp };
      // a failed look-up is not kept: the next caller asks again
      lookedUp.catch(() => (cached = undefined));
    }
    return cached.addresses;
  };
  return {
    host,
    async includes(address) {
      return (await addresses()).has(normalizeAddress(address));
    },
  };
}
