import { runAgent } from '@desktop-agents/kit';
import { buildSpawner } from './app.js';
import { SpawnerEnv } from './config.js';

await runAgent({ name: 'spawner', env: SpawnerEnv, build: buildSpawner });
