import type { AgentDefinition } from '@desktop-agents/kit';
import { buildSpawner } from './app.js';
import { SpawnerEnv } from './config.js';

/** The spawner agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof SpawnerEnv> = { name: 'spawner', env: SpawnerEnv, build: buildSpawner };
