// A container health check: `node <kit>/dist/healthcheck.js [agent...]` exits 0 when every agent named (default: every
// agent installed beside the kit, as images/collect-agents lays them out) answers /healthz on its port, 1 otherwise.
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

async function healthy(name: AgentName): Promise<boolean> {
  const bound = process.env['CONTAINER_IP_ADDR'];
  const host = !bound || bound === '0.0.0.0' ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
  try {
    const reply = await fetch(`http://${host}:${agentPort(name)}/healthz`, { signal: AbortSignal.timeout(2_500) });
    return reply.ok;
  } catch {
    return false;
  }
}

const names = (process.argv.length > 2 ? process.argv.slice(2) : installedAgents()).filter(isAgent);
const results = await Promise.all(names.map(healthy));
process.exit(names.length > 0 && results.every(Boolean) ? 0 : 1);
