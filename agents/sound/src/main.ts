import { runAgent } from '@desktop-agents/kit';
import { buildSound } from './app.js';
import { SoundEnv } from './config.js';

await runAgent({ name: 'sound', env: SoundEnv, build: buildSound });
