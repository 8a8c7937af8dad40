import { dataReply, replies, ValidationError, type RoutesPlugin } from '@desktop-agents/kit';
import type { DisplayLink } from '../display.js';
import { ERRORS } from '../errors.js';
import type { ScreenControl } from '../screen.js';
import { screenshotPng } from '../screenshot.js';

const PIXELS = { type: 'integer', minimum: 1, maximum: 32767 } as const;
const OFFSET = { type: 'integer', minimum: 0, maximum: 32767 } as const;

const LAYOUT = {
  type: 'object',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    monitors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          x: { type: 'integer' },
          y: { type: 'integer' },
          width: { type: 'integer' },
          height: { type: 'integer' },
          primary: { type: 'boolean' },
        },
      },
    },
  },
} as const;

const displayBody = {
  type: 'object',
  properties: {
    width: { ...PIXELS, messages: { default: 'Width must be a whole number of pixels from 1 to 32767' } },
    height: { ...PIXELS, messages: { default: 'Height must be a whole number of pixels from 1 to 32767' } },
    monitors: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        required: ['name', 'x', 'y', 'width', 'height'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, x: OFFSET, y: OFFSET, width: PIXELS, height: PIXELS, primary: { type: 'boolean' } },
      },
      messages: { default: 'Monitors must be a list of 1 to 16 { name, x, y, width, height, primary }' },
    },
  },
} as const;

/** A screenshot's width when the query does not say (the validator fills it in; the type does not know). */
const DEFAULT_SCREENSHOT_WIDTH = 320;

const screenshotQuery = {
  type: 'object',
  properties: {
    width: {
      type: 'integer',
      minimum: 16,
      maximum: 1920,
      default: DEFAULT_SCREENSHOT_WIDTH,
      messages: { default: 'Width must be a whole number from 16 to 1920' },
    },
  },
} as const;

/** Per client address: at most `perMinute` in any minute (a sliding window of the last answers' times). */
export class PerClientLimit {
  readonly #times = new Map<string, number[]>();
  constructor(readonly perMinute: number) {}

  take(client: string, now = Date.now()): boolean {
    const recent = (this.#times.get(client) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= this.perMinute) return false;
    recent.push(now);
    this.#times.set(client, recent);
    // forget clients that went quiet, so the map stays as small as the clients of the last minute
    if (this.#times.size > 1000) for (const [key, times] of this.#times) if (times.every((t) => t <= now - 60_000)) this.#times.delete(key);
    return true;
  }
}

export function displayRoutes(display: DisplayLink, screen: ScreenControl, screenshots: PerClientLimit): RoutesPlugin {
  return async (app) => {
    app.get('/display', { schema: { response: replies(dataReply(LAYOUT)) } }, async () => ({ code: 200, data: await screen.layout() }));

    app.post('/display', { schema: { body: displayBody, response: replies(dataReply(LAYOUT), { validated: true }) } }, async (request) => {
      const { width, height, monitors } = request.body;
      if (monitors) return { code: 200, data: await screen.setMonitors(monitors) };
      const missing = [
        width === undefined && { location: 'body' as const, param: 'width', msg: 'No width provided' },
        height === undefined && { location: 'body' as const, param: 'height', msg: 'No height provided' },
      ].filter((issue) => issue !== false);
      if (width === undefined || height === undefined) throw new ValidationError(missing);
      return { code: 200, data: await screen.setSize(width, height) };
    });

    app.get('/screenshot', { schema: { querystring: screenshotQuery } }, async (request, reply) => {
      if (!screenshots.take(request.ip)) throw ERRORS.TOO_MANY_SCREENSHOTS(screenshots.perMinute);
      const desktop = display.desktop;
      const { width, height } = await screen.layout();
      const png = await screenshotPng(desktop.x, { width, height }, request.query.width ?? DEFAULT_SCREENSHOT_WIDTH);
      return reply.header('cache-control', 'no-store').type('image/png').send(png);
    });
  };
}
