import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** One value of a metric, with its labels. */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A metric an agent declares: its value is read from the agent's own state when /metrics is scraped, so domain
 * code keeps plain counters and never depends on the metrics library.
 */
export interface MetricDefinition {
  /** Prometheus style: `broadcast_clients`, `filer_uploads_total`. */
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames?: string[];
  read(): number | Sample[] | Promise<number | Sample[]>;
}

/** Where an agent declares its metrics (decorated on the server as `metrics`). */
export class Metrics {
  readonly #definitions: MetricDefinition[] = [];
  #registry: Promise<Registry> | undefined;

  define(definition: MetricDefinition): void {
    if (this.#registry) throw new Error(`metric ${definition.name} defined after the first scrape`);
    this.#definitions.push(definition);
  }

  /** The agent's own metrics as they are now (not the process's), read straight from their definitions. */
  async current(): Promise<Array<{ name: string; labels?: Record<string, string>; value: number }>> {
    const all = await Promise.all(
      this.#definitions.map(async (d) => {
        const read = await d.read();
        return (typeof read === 'number' ? [{ value: read }] : read).map((s) => ({ name: d.name, ...s }));
      }),
    );
    return all.flat();
  }

  /** The Prometheus text of every metric, the process's own included. prom-client is loaded on the first scrape. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    const registry = await (this.#registry ??= this.#build());
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  async #build(): Promise<Registry> {
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    prom.collectDefaultMetrics({ register: registry });
    for (const d of this.#definitions) {
      const samples = async () => {
        const read = await d.read();
        return typeof read === 'number' ? [{ value: read }] : read;
      };
      const common = { name: d.name, help: d.help, labelNames: d.labelNames ?? [], registers: [registry] };
      if (d.type === 'gauge') {
        new prom.Gauge({
          ...common,
          async collect() {
            this.reset();
            for (const s of await samples()) this.set(s.labels ?? {}, s.value);
          },
        });
      } else {
        new prom.Counter({
          ...common,
          async collect() {
            this.reset();
            for (const s of await samples()) this.inc(s.labels ?? {}, s.value);
          },
        });
      }
    }
    return registry;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** GET /metrics in Prometheus text format: behind the agent's auth unless `public` (METRICS_PUBLIC=true). */
const plugin: FastifyPluginAsync<{ public: boolean }> = async (app, options) => {
  app.decorate('metrics', new Metrics());
  app.get(
    '/metrics',
    { config: { public: options.public }, schema: { response: { 200: { type: 'string', description: 'Prometheus text' } } } },
    async (_request, reply) => {
      const { contentType, text } = await app.metrics.scrape();
      return reply.type(contentType).send(text);
    },
  );
};

export const metricsPlugin = fp(plugin, { fastify: '5.x', name: 'agent-metrics' });
