import { runAgent } from '@desktop-agents/kit';
import { buildFiler } from './app.js';
import { FilerEnv } from './config.js';

await runAgent({ name: 'filer', env: FilerEnv, build: buildFiler });
