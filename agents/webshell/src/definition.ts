import type { AgentDefinition } from '@desktop-agents/kit';
import { buildWebshell } from './app.js';
import { WebshellEnv } from './config.js';

/** The webshell agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof WebshellEnv> = { name: 'webshell', env: WebshellEnv, build: buildWebshell };
