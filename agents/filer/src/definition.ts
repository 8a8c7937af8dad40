import type { AgentDefinition } from '@desktop-agents/kit';
import { buildFiler } from './app.js';
import { FilerEnv } from './config.js';

/** The filer agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof FilerEnv> = { name: 'filer', env: FilerEnv, build: buildFiler };
