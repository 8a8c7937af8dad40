import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE, type AgentStatusView } from '@desktop-agents/kit';
import type { Pod } from './pod.js';

export interface AgentStatus {
  name: string;
  url: string;
  ready: boolean;
  reason: string | undefined;
  lastError: string | undefined;
}

type PodAgentEntry = Pod['agents'][number];

/** The last error line an agent logged, as `msg: err.message`. */
function lastErrorOf(agent: PodAgentEntry): string | undefined {
  if (!agent.running) return agent.failure;
  const line = agent.running
    .logLines()
    .filter((l) => Number(l['level']) >= 50)
    .at(-1);
  const err = line?.['err'] as { message?: string } | undefined;
  return line ? `${String(line['msg'] ?? '')}${err?.message ? `: ${err.message}` : ''}` : undefined;
}

async function statusOf(agent: PodAgentEntry): Promise<AgentStatus> {
  const lastError = lastErrorOf(agent);
  if (!agent.running) return { name: agent.name, url: '', ready: false, reason: agent.failure, lastError };
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
}

/** Readiness of every agent (its /readyz, with the reason) and the last error line it logged. */
export async function podStatus(pod: Pod): Promise<AgentStatus[]> {
  return Promise.all(pod.agents.map(statusOf));
}

/**
 * Every agent as the status page shows it, from its /status/history.json (readiness as its /readyz answers, uptime,
 * RSS and CPU samples, its own figures) and the last error from the pod runner's view. An agent that does not
 * answer is still listed, with its readiness probed and why.
 */
export async function podHistory(pod: Pod): Promise<AgentStatusView[]> {
  return Promise.all(
    pod.agents.map(async (agent): Promise<AgentStatusView> => {
      if (agent.running) {
        try {
          const res = await fetch(`${agent.running.url}/status/history.json`, {
            headers: { authorization: `Bearer ${pod.token}` },
            signal: AbortSignal.timeout(2000),
          });
          const [own] = res.ok ? ((await res.json()) as { agents: AgentStatusView[] }).agents : [];
          if (own) return { ...own, name: agent.name, url: agent.running.url, lastError: lastErrorOf(agent) };
        } catch {
          // not answering: probed below
        }
      }
      const s = await statusOf(agent);
      return { name: s.name, url: s.url, ready: s.ready, reason: s.reason, lastError: s.lastError, samples: [], figures: [] };
    }),
  );
}

/**
 * The page an admin opens first (the kit's status page, for every agent: readiness with its reason, uptime, RSS
 * and CPU graphs, its own figures, its last error), history.json behind it, and status.json (readiness only, for
 * scripts, unchanged).
 */
export async function startStatusServer(pod: Pod, port = 0): Promise<{ url: string; server: Server }> {
  const html = STATUS_PAGE('Desktop pod', 'history.json');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/status.json') {
      void podStatus(pod).then((statuses) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statuses)));
    } else if (path === '/history.json') {
      void podHistory(pod).then((agents) =>
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ agents })),
      );
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 404, data: 'Not found' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
