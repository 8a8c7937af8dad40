import type { AgentDefinition } from '@desktop-agents/kit';
import { buildBroadcast } from './app.js';
import { BroadcastEnv } from './config.js';

/** The broadcast agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof BroadcastEnv> = { name: 'broadcast', env: BroadcastEnv, build: buildBroadcast };
