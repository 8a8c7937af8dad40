// npm run agents -- [name...]: the named agents (all six when none is named) in this one process, each on its own
// port with its own probes and logger name, the bus first so that the others reach it in-process. Only the named
// agents' code is loaded.
import { AGENT_PORTS, runAgents, type AgentDefinition, type AgentName, type EnvSettings } from '@desktop-agents/kit';

type Loader = () => Promise<AgentDefinition<EnvSettings>>;
const loaders: Record<AgentName, Loader> = {
  broadcast: async () => (await import('@desktop-agents/broadcast/definition')).definition,
  spawner: async () => (await import('@desktop-agents/spawner/definition')).definition,
  webshell: async () => (await import('@desktop-agents/webshell/definition')).definition,
  filer: async () => (await import('@desktop-agents/filer/definition')).definition,
  printerfile: async () => (await import('@desktop-agents/printerfile/definition')).definition,
  sound: async () => (await import('@desktop-agents/sound/definition')).definition,
};
const isAgent = (name: string): name is AgentName => Object.hasOwn(AGENT_PORTS, name);

const asked = process.argv
  .slice(2)
  .flatMap((arg) => arg.split(/[\s,]+/))
  .filter(Boolean);
const unknown = asked.filter((name) => !isAgent(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown agent ${unknown.join(', ')}; the agents are: ${Object.keys(AGENT_PORTS).join(' ')}\n`);
  process.exit(2);
}
const names = [...new Set(asked.length > 0 ? asked.filter(isAgent) : (Object.keys(AGENT_PORTS) as AgentName[]))];
names.sort((a, b) => (a === 'broadcast' ? -1 : b === 'broadcast' ? 1 : 0));
await runAgents(await Promise.all(names.map((name) => loaders[name]())));
