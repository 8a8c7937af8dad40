import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import { performance } from 'node:perf_hooks';
import { STATUS_PAGE } from './status-page.js';

/** One sample of the process: what the status page graphs. */
export interface StatusSample {
  /** ms since the epoch */
  t: number;
  rssMiB: number;
  /** Share of one core used since the previous sample. */
  cpuPercent: number;
}

/** One agent as the status page shows it (the pod runner's page lists several). */
export interface AgentStatusView {
  name: string;
  url?: string;
  ready: boolean;
  reason?: string;
  lastError?: string;
  /** Weaknesses of the agent's configuration it runs with (a small JWT key, say). */
  warnings?: readonly string[];
  uptimeSeconds?: number;
  samples: StatusSample[];
  figures: Array<{ name: string; labels?: Record<string, string>; value: number }>;
}

const KEPT = 60;

/** The last KEPT samples of RSS and CPU, taken every `everyMs` (unref'd: it never keeps an agent alive). */
export class ProcessSampler {
  readonly samples: StatusSample[] = [];
  #cpu = process.cpuUsage();
  #at = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(everyMs: number) {
    this.#timer = setInterval(() => this.#take(), everyMs);
    this.#timer.unref();
  }

  #take(): void {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const usedUs = cpu.user - this.#cpu.user + (cpu.system - this.#cpu.system);
    const wallUs = (now - this.#at) * 1000;
    this.#cpu = cpu;
    this.#at = now;
    this.samples.push({ t: Date.now(), rssMiB: process.memoryUsage.rss() / 1048576, cpuPercent: wallUs > 0 ? (usedUs / wallUs) * 100 : 0 });
    if (this.samples.length > KEPT) this.samples.shift();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * GET /status (the page, public: it asks for the token) and GET /status/history.json (behind the auth): readiness
 * as /readyz answers it, uptime, the samples, and the agent's own metrics as they are now.
 */
const plugin: FastifyPluginAsync<{ name: string; sampleMs: number; warnings?: readonly string[] }> = async (app, options) => {
  const sampler = new ProcessSampler(options.sampleMs);
  app.addHook('onClose', async () => sampler.stop());
  const page = STATUS_PAGE(options.name, 'status/history.json');
  app.get('/status', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get('/status/history.json', { schema: { hide: true } }, async () => {
    const readiness = await app.inject({ method: 'GET', url: '/readyz' });
    const body = JSON.parse(readiness.body || '{}') as { reason?: string };
    const view: AgentStatusView = {
      name: options.name,
      ready: readiness.statusCode === 200,
      reason: body.reason,
      ...(options.warnings?.length ? { warnings: options.warnings } : {}),
      uptimeSeconds: process.uptime(),
      samples: sampler.samples,
      figures: await app.metrics.current(),
    };
    return { agents: [view] };
  });
};

export const statusPlugin = fp(plugin, { fastify: '5.x', name: 'agent-status', dependencies: ['agent-metrics'] });
