import type { AgentDefinition } from '@desktop-agents/kit';
import { buildSound } from './app.js';
import { SoundEnv } from './config.js';

/** The sound agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof SoundEnv> = { name: 'sound', env: SoundEnv, build: buildSound };
