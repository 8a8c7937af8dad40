import type { FastifyRequest } from 'fastify';
import type { BusClient } from './bus-client.js';
import type { TransferAuditEvent } from './bus-methods.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { TransferRefused, TransferRules, type TransferDirection } from './transfer-policy.js';
import type { EnvSettings } from './config.js';

/** The setting of every agent a transfer passes through (filer, printerfile, spawner): docs/transfers.md. */
export const TransferEnv = {
  /** JSON: per direction (upload, download, clipboardIn, clipboardOut, print) allow / deny MIME lists, maxBytes, paths. */
  TRANSFER_POLICY: { type: 'string' },
} as const satisfies EnvSettings;

/** The rules from TRANSFER_POLICY (throws naming the key when it is not valid) and the audit trail they report to. */
export function transfersOf(
  config: { TRANSFER_POLICY?: string | undefined },
  log: Logger,
  bus?: Pick<BusClient, 'publish'>,
): { rules: TransferRules; audit: TransferAudit } {
  return { rules: TransferRules.fromEnv(config.TRANSFER_POLICY), audit: new TransferAudit(log.child({ component: 'transfers' }), bus) };
}

export type AuditEntry = Omit<TransferAuditEvent, 'at' | 'result' | 'rule'>;

/** Who asked: the caller's address, and the JWT's subject when the token is one (never the token itself). */
export function callerOf(request: Pick<FastifyRequest, 'ip' | 'principal'>): { client: string; user?: string } {
  const principal = request.principal;
  return { client: request.ip, ...(principal?.kind === 'jwt' && principal.subject ? { user: principal.subject } : {}) };
}

/**
 * The audit trail of transfers: every transfer, allowed or refused, as one log line with `audit: true`, a
 * `transfer.audit` bus event for the pod's local services, and the `transfer_total{direction,result}` counters.
 */
export class TransferAudit {
  readonly #counts = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly bus?: Pick<BusClient, 'publish'>,
  ) {}

  allowed(entry: AuditEntry): void {
    this.#record({ ...entry, result: 'allowed', at: new Date().toISOString() });
  }

  refused(entry: AuditEntry, refusal: TransferRefused): void {
    this.#record({ ...entry, result: 'refused', rule: refusal.rule, at: new Date().toISOString() });
  }

  /** Records the outcome of `work`: allowed when it resolves, refused when it throws a TransferRefused. */
  async around<T>(entry: AuditEntry, work: () => Promise<T>, facts?: (result: T) => Partial<AuditEntry>): Promise<T> {
    try {
      const result = await work();
      this.allowed({ ...entry, ...facts?.(result) });
      return result;
    } catch (err) {
      if (err instanceof TransferRefused) this.refused({ ...entry, subject: err.subject, ...err.facts }, err);
      throw err;
    }
  }

  count(direction: TransferDirection, result: 'allowed' | 'refused'): number {
    return this.#counts.get(`${direction} ${result}`) ?? 0;
  }

  defineMetrics(metrics: Metrics): void {
    metrics.define({
      name: 'transfer_total',
      help: 'Transfers by direction and result (allowed, refused by TRANSFER_POLICY)',
      type: 'counter',
      labelNames: ['direction', 'result'],
      read: () =>
        [...this.#counts.entries()].map(([key, value]) => {
          const [direction = '', result = ''] = key.split(' ');
          return { labels: { direction, result }, value };
        }),
    });
  }

  #record(event: TransferAuditEvent): void {
    const key = `${event.direction} ${event.result}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.log.info({ audit: true, ...event }, `${event.direction} ${event.result}`);
    this.bus?.publish('transfer.audit', event);
  }
}
