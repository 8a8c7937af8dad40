// A container health check: `node <kit>/dist/healthcheck.js [--ready] [agent...]` exits 0 when every agent named
// (default: every agent installed beside the kit, as images/collect-agents lays them out) answers /healthz (with
// --ready: /readyz) on its port, 1 otherwise: the probe of a container running several agents in one process.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_PORTS, agentPort, type AgentName } from './config.js';

const isAgent = (name: string): name is AgentName => name in AGENT_PORTS;

function installedAgents(): string[] {
  try {
    return readdirSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'agents'));
  } catch {
    return [];
  }
}

async function healthy(name: AgentName, path: string): Promise<boolean> {
  const bound = process.env['CONTAINER_IP_ADDR'];
  const host = !bound || bound === '0.0.0.0' ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
  try {
    const reply = await fetch(`http://${host}:${agentPort(name)}${path}`, { signal: AbortSignal.timeout(2_500) });
    return reply.ok;
  } catch {
    return false;
  }
}

const args = process.argv.slice(2);
const path = args.includes('--ready') ? '/readyz' : '/healthz';
const asked = args.filter((a) => a !== '--ready');
const names = (asked.length > 0 ? asked : installedAgents()).filter(isAgent);
const results = await Promise.all(names.map((name) => healthy(name, path)));
process.exit(names.length > 0 && results.every(Boolean) ? 0 : 1);
