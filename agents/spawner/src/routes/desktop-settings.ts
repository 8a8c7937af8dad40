import { readFile } from 'node:fs/promises';
import { arch, hostname, networkInterfaces, platform, release, cpus } from 'node:os';
import { dataReply, objectReply, okReply, replies, type BusClient, type RoutesPlugin } from '@desktop-agents/kit';
import type { DisplayLink } from '../display.js';
import { KEY_PATTERN, type SettingsStore } from '../store.js';
import { ERRORS } from '../errors.js';

const ok = { code: 200, data: 'ok' } as const;

const colorBody = {
  type: 'object',
  required: ['color'],
  properties: {
    color: {
      type: 'string',
      // first a hex color as validator.js's isHexColor has it, then the # + 6 or 8 digits the desktop needs
      allOf: [
        { pattern: '^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$', messages: { pattern: 'Color must be a string hexa' } },
        { pattern: '^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$', messages: { pattern: 'Bad color hexa pattern' } },
      ],
      messages: { required: 'No color provided', type: 'Color must be a string' },
    },
  },
} as const;

const keyProperty = {
  type: 'string',
  pattern: KEY_PATTERN,
  messages: { required: 'No key provided', type: 'Key must be a string', pattern: 'Key must have a valid pattern' },
} as const;
const setDesktopBody = {
  type: 'object',
  required: ['key', 'value'],
  properties: { key: keyProperty, value: { type: 'string', maxLength: 65536, messages: { required: 'No value provided', type: 'Value must be a string' } } },
} as const;
const getDesktopQuery = {
  type: 'object',
  required: ['key'],
  properties: { key: { ...keyProperty, minLength: 1, messages: { ...keyProperty.messages, minLength: 'Key must not be empty' } } },
} as const;

export interface DesktopInfo {
  allowEnv(name: string): boolean;
  /** The agent's environment, read at start (getenv shows the allowed part of it). */
  env: NodeJS.ProcessEnv;
  versionFile: string;
  pod: { POD_NAME?: string; POD_NAMESPACE?: string; NODE_NAME?: string };
  containerIp: string;
  settings: () => Promise<string[]>;
}

export function desktopRoutes(display: DisplayLink, store: SettingsStore, bus: Pick<BusClient, 'publish'>, info: DesktopInfo): RoutesPlugin {
  return async (app) => {
    app.post('/setBackgroundColor', { schema: { body: colorBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      const hex = request.body.color.slice(1, 7);
      await display.desktop.setBackground({ r: parseInt(hex.slice(0, 2), 16), g: parseInt(hex.slice(2, 4), 16), b: parseInt(hex.slice(4, 6), 16) });
      await store.set('currentImgColor', request.body.color);
      bus.publish('display.setBackgroundBorderColor', request.body.color);
      return ok;
    });

    app.post('/setDesktop', { schema: { body: setDesktopBody, response: replies(okReply, { validated: true }) } }, async (request) => {
      if (!(await store.set(request.body.key, request.body.value))) throw ERRORS.NOT_FOUND();
      return ok;
    });

    app.get(
      '/getDesktop',
      { schema: { querystring: getDesktopQuery, response: replies(dataReply({ type: 'string' }), { validated: true }) } },
      async (request) => {
        const value = await store.get(request.query.key);
        if (value === undefined) throw ERRORS.NOT_FOUND();
        return { code: 200, data: value };
      },
    );

    app.get('/getSettings', { schema: { response: replies(dataReply({ type: 'array', items: { type: 'string' } })) } }, async () => ({
      code: 200,
      data: await info.settings(),
    }));

    app.get('/version', { schema: { response: replies(dataReply(objectReply)) } }, async () => {
      try {
        // the file's JSON as it is (its `target` included, nothing added): the UI shows each image's own
        const version: unknown = JSON.parse(await readFile(info.versionFile, 'utf8'));
        if (typeof version !== 'object' || version === null || Array.isArray(version)) throw new Error('not an object');
        return { code: 200, data: version };
      } catch {
        throw ERRORS.NO_VERSION_FILE();
      }
    });

    app.get('/about', { schema: { response: replies(objectReply) } }, async (request) => {
      const forwarded = request.headers['x-forwarded-for'];
      const language = request.headers['accept-language'];
      return {
        hostname: hostname(),
        ipaddr: info.containerIp,
        platform: platform(),
        arch: arch(),
        release: release(),
        cpu: cpus()[0]?.model ?? '',
        // only when the request names its client, as the original
        ...(typeof forwarded === 'string' && forwarded.trim() ? { clientipaddr: forwarded.split(',')[0]?.trim() } : {}),
        country: '',
        language: typeof language === 'string' ? language.split(',')[0] : '',
        build: process.version,
        POD_NAME: info.pod.POD_NAME ?? '',
        POD_NAMESPACE: info.pod.POD_NAMESPACE ?? '',
        NODE_NAME: info.pod.NODE_NAME ?? '',
      };
    });

    app.get('/getenv', { schema: { response: replies({ type: 'object', properties: { env: objectReply } }) } }, async () => ({
      env: Object.fromEntries(Object.entries(info.env).filter(([name]) => info.allowEnv(name))),
    }));

    app.get('/getnetworkinterfaces', { schema: { response: replies({ type: 'object', properties: { networkInterfaces: objectReply } }) } }, async () => ({
      networkInterfaces: networkInterfaces(),
    }));
  };
}
