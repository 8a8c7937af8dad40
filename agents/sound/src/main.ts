import { runAgent } from '@desktop-agents/kit';
import { definition } from './definition.js';

await runAgent(definition);
