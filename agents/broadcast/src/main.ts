import { runAgent } from '@desktop-agents/kit';
import { buildBroadcast } from './app.js';
import { BroadcastEnv } from './config.js';

await runAgent({ name: 'broadcast', env: BroadcastEnv, build: buildBroadcast });
