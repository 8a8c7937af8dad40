import { dataReply, okReply, replies, ValidationError, type RoutesPlugin } from '@desktop-agents/kit';
import type { DisplayLink } from '../display.js';
import type { WindowListPublisher } from '../window-list.js';

const WINDOWS = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      pid: { type: ['integer', 'null'] },
      wm_class: { type: 'string' },
      title: { type: 'string' },
      machine_name: { type: 'string' },
    },
  },
};

const ok = { code: 200, data: 'ok' } as const;

export const windowsIdBody = {
  type: 'object',
  required: ['windowsid'],
  properties: {
    windowsid: {
      type: 'array',
      minItems: 1,
      items: { type: 'integer', messages: { default: 'All windowsid must be number' } },
      messages: { required: 'No windowsid provided', default: 'Windowsid must be an array of windowid not empty' },
    },
  },
} as const;

/** The ids that are windows of the desktop now; the others are reported in the abcdesktop shape. */
async function knownWindows(display: DisplayLink, ids: number[]): Promise<number[]> {
  const known = new Set(await display.desktop.clientList());
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ValidationError(unknown.map((id) => ({ location: 'body', param: 'windowsid', value: ids, msg: `Unknow window_id [${id}]` })));
  }
  return ids;
}

export function windowRoutes(display: DisplayLink, publisher: WindowListPublisher): RoutesPlugin {
  return async (app) => {
    app.get('/getwindowslist', { schema: { response: replies(dataReply(WINDOWS)) } }, async () => ({ code: 200, data: await display.desktop.windows() }));

    app.post('/activatewindows', { schema: { body: windowsIdBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      for (const id of await knownWindows(display, request.body.windowsid)) display.desktop.activate(id);
      return ok;
    });

    app.post('/closewindows', { schema: { body: windowsIdBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      for (const id of await knownWindows(display, request.body.windowsid)) display.desktop.close(id);
      return ok;
    });

    app.post('/placeAllWindows', { schema: { response: replies(okReply) } }, async () => {
      display.desktop.tile(await display.desktop.clientList());
      return ok;
    });

    app.post('/broadcastwindowslist', { schema: { response: replies(okReply) } }, async () => {
      await publisher.publish(true);
      return ok;
    });
  };
}
