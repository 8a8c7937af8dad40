import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pod } from './pod.js';

export interface AgentStatus {
  name: string;
  url: string;
  ready: boolean;
  reason: string | undefined;
  lastError: string | undefined;
}

/** Readiness of every agent (its /readyz, with the reason) and the last error line it logged. */
export async function podStatus(pod: Pod): Promise<AgentStatus[]> {
  return Promise.all(
    pod.agents.map(async (agent): Promise<AgentStatus> => {
      if (!agent.running) return { name: agent.name, url: '', ready: false, reason: agent.failure, lastError: agent.failure };
      const lastErrorLine = agent.running
        .logLines()
        .filter((l) => Number(l['level']) >= 50)
        .at(-1);
      const err = lastErrorLine?.['err'] as { message?: string } | undefined;
      const lastError = lastErrorLine ? `${String(lastErrorLine['msg'] ?? '')}${err?.message ? `: ${err.message}` : ''}` : undefined;
      let ready = false;
      let reason: string | undefined;
      try {
        const res = await agent.running.get('/readyz');
        ready = res.status === 200;
        reason = ready ? undefined : ((res.body as { reason?: string }).reason ?? `HTTP ${res.status}`);
      } catch (e) {
        reason = agent.running.process.running ? (e as Error).message : 'exited';
      }
      return { name: agent.name, url: agent.running.url, ready, reason, lastError };
    }),
  );
}

/** The samples of a Prometheus text exposition: `name{labels}` → value (comments and unparsable lines skipped). */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const value = Number(line.slice(cut + 1));
    if (cut > 0 && Number.isFinite(value)) samples.set(line.slice(0, cut), value);
  }
  return samples;
}

/** Each agent's /metrics (with the pod's token): what the page shows beside readiness. */
export async function podMetrics(pod: Pod): Promise<Map<string, Map<string, number>>> {
  const entries = await Promise.all(
    pod.agents.map(async (agent) => {
      if (!agent.running) return [agent.name, new Map<string, number>()] as const;
      try {
        const res = await fetch(`${agent.running.url}/metrics`, { headers: { authorization: `Bearer ${pod.token}` }, signal: AbortSignal.timeout(2000) });
        return [agent.name, res.ok ? parsePrometheus(await res.text()) : new Map<string, number>()] as const;
      } catch {
        return [agent.name, new Map<string, number>()] as const;
      }
    }),
  );
  return new Map(entries);
}

/** The agent's own figures (not the process's, nor Node's), as `name{labels}=value`. */
function ownFigures(name: string, samples: Map<string, number> | undefined): string {
  if (!samples) return '';
  const prefix = `${name}_`;
  return [...samples]
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => `${key.slice(prefix.length)}=${value}`)
    .join(' ');
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(statuses: AgentStatus[], metrics: Map<string, Map<string, number>>): string {
  const rows = statuses
    .map((s) => {
      const samples = metrics.get(s.name);
      const rss = samples?.get('process_resident_memory_bytes');
      const cpu = samples?.get('process_cpu_seconds_total');
      const usage = rss === undefined ? '' : `${(rss / 1024 / 1024).toFixed(1)} MiB, ${cpu?.toFixed(2) ?? '?'} s CPU`;
      return `<tr class="${s.ready ? 'ok' : 'bad'}"><td>${escape(s.name)}</td><td>${escape(s.url)}</td><td>${s.ready ? 'ready' : `not ready: ${escape(s.reason ?? '')}`}</td><td>${escape(usage)}</td><td>${escape(ownFigures(s.name, samples))}</td><td>${escape(s.lastError ?? '')}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Desktop pod</title><meta http-equiv="refresh" content="5">
<style>body{font-family:sans-serif}td,th{padding:.3em .8em;text-align:left}.ok td:nth-child(3){color:green}.bad td:nth-child(3){color:#b00}</style></head>
<body><h1>Desktop pod</h1><table><thead><tr><th>agent</th><th>address</th><th>readiness</th><th>memory, CPU</th><th>metrics</th><th>last error</th></tr></thead><tbody>
${rows}
</tbody></table><p><a href="status.json">status.json</a></p></body></html>`;
}

/**
 * The page an admin opens first: each agent, its readiness, its memory and CPU and its own metrics (from its
 * /metrics), and its last error (HTML, refreshed; status.json keeps readiness only, for scripts).
 */
export async function startStatusServer(pod: Pod, port = 0): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void podStatus(pod).then((statuses) => {
      if (req.url?.startsWith('/status.json')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statuses));
      } else if (req.url === '/' || req.url?.startsWith('/?')) {
        void podMetrics(pod).then((metrics) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(statuses, metrics)));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 404, data: 'Not found' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
