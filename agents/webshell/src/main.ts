import { runAgent } from '@desktop-agents/kit';
import { buildWebshell } from './app.js';
import { WebshellEnv } from './config.js';

await runAgent({ name: 'webshell', env: WebshellEnv, build: buildWebshell });
