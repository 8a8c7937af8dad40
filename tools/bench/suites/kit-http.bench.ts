// The kit's request path (auth hook, logging, error handling) against a bare node:http server answering the same
// JSON, both loaded the same way from this process: what the kit costs per request.
import { createServer as createHttpServer, Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createServer, tokenAuthenticator } from '@desktop-agents/kit';
import { percentile, type BenchResult, type BenchSuite } from '../types.js';

const TOKEN = 'bench-token-0123456789';
const CONCURRENCY = 32;

async function load(port: number, path: string, durationMs: number): Promise<{ rps: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const end = Date.now() + durationMs;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        // a refused request is a failure of the bench, never a fast answer counted as served
        if (res.statusCode !== 200) return reject(new Error(`GET ${path} on port ${port}: HTTP ${res.statusCode}`));
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / (durationMs / 1000), p99: percentile(latencies, 99) };
}

const suite: BenchSuite = {
  name: 'kit http',
  async run({ quick }): Promise<BenchResult[]> {
    const durationMs = quick ? 500 : 3000;
    const app = await createServer({
      logger: createLogger({ name: 'bench', level: 'warn' }),
      authenticator: tokenAuthenticator({ AUTH_TOKEN: TOKEN }),
      readiness: async () => {},
    });
    app.get('/ping', async () => ({ code: 200, data: 'ok' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const bare: Server = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ code: 200, data: 'ok' }));
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      const reference = await load((bare.address() as AddressInfo).port, '/ping', durationMs);
      const kit = await load((app.server.address() as AddressInfo).port, '/ping', durationMs);
      return [
        {
          measure: `authenticated GET, ${CONCURRENCY} connections`,
          unit: 'req/s',
          value: kit.rps,
          reference: { name: 'bare node:http', value: reference.rps },
          better: 'higher',
        },
        {
          measure: `p99 latency, ${CONCURRENCY} connections`,
          unit: 'ms',
          value: kit.p99,
          reference: { name: 'bare node:http', value: reference.p99 },
          better: 'lower',
        },
      ];
    } finally {
      await app.close();
      await new Promise((resolve) => bare.close(resolve));
    }
  },
};

export default suite;
