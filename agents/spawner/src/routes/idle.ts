import { dataReply, replies, type RoutesPlugin } from '@desktop-agents/kit';
import type { IdleWatch } from '../idle.js';

const IDLE = { type: 'object', properties: { idleMs: { type: 'integer' }, lastInput: { type: 'string' } }, required: ['idleMs', 'lastInput'] };

/** GET /spawner/idle: the X server's input idle time, for the control plane to find idle pods. */
export function idleRoutes(idle: IdleWatch): RoutesPlugin {
  return async (app) => {
    app.get('/idle', { schema: { response: replies(dataReply(IDLE)) } }, async () => ({ code: 200, data: await idle.now() }));
  };
}
