import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { createLogger, createServer, DEFAULT_SECURITY, HttpError, tokenAuthenticator, ValidationError, type AgentServer } from '../src/index.js';

const TOKEN = 'server-test-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

let app: AgentServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(readiness: () => Promise<void> = async () => {}, security?: Parameters<typeof createServer>[0]['security']) {
  const sink = logSink();
  app = await createServer({
    security,
    name: 'thing',
    logger: createLogger({ name: 't', destination: sink.stream }),
    authenticator: tokenAuthenticator({ AUTH_TOKEN: TOKEN }),
    readiness,
    readinessTimeoutMs: 200,
  });
  return { app, sink };
}

describe('createServer', () => {
  it('describes every route it serves in GET /openapi.json', async () => {
    const { app } = await build();
    const served: string[] = [];
    app.addHook('onRoute', (route) => {
      if (route.method !== 'HEAD') served.push(route.url.replace(/:(\w+)/g, '{$1}'));
    });
    app.get('/things/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async () => ({}));
    app.post('/things', async () => ({}));
    const doc = (await app.inject({ url: '/openapi.json', headers: auth })).json() as { paths: Record<string, unknown> };
    for (const url of [...served, '/healthz', '/readyz', '/metrics', '/openapi.json']) expect(Object.keys(doc.paths)).toContain(url);
  });

  it('serves Prometheus metrics behind auth: the process and what the agent defines', async () => {
    const { app } = await build();
    let n = 0;
    app.metrics.define({ name: 'things_total', help: 'things', type: 'counter', labelNames: ['kind'], read: () => [{ labels: { kind: 'a' }, value: ++n }] });
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const res = await app.inject({ url: '/metrics', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('process_resident_memory_bytes');
    expect(res.body).toContain('things_total{kind="a"} 1');
    expect((await app.inject({ url: '/metrics', headers: auth })).body).toContain('things_total{kind="a"} 2');
  });

  it('serves its status page without credentials, and its history (readiness, samples, its own figures) only with them', async () => {
    const { app } = await build(async () => Promise.reject(new Error('the display is gone')), { ...DEFAULT_SECURITY, STATUS_SAMPLE_MS: 100 });
    app.metrics.define({ name: 'thing_widgets', help: 'widgets', type: 'gauge', labelNames: ['kind'], read: () => [{ labels: { kind: 'blue' }, value: 7 }] });
    const page = await app.inject({ url: '/status' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('data-source="status/history.json"');
    expect((await app.inject({ url: '/status/history.json' })).statusCode).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const history = (await app.inject({ url: '/status/history.json', headers: auth })).json() as { agents: Array<Record<string, unknown>> };
    const [thing] = history.agents;
    expect(thing).toMatchObject({
      name: 'thing',
      ready: false,
      reason: 'the display is gone',
      figures: [{ name: 'thing_widgets', labels: { kind: 'blue' }, value: 7 }],
    });
    const samples = thing?.['samples'] as Array<{ rssMiB: number; cpuPercent: number }>;
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples[0]?.rssMiB).toBeGreaterThan(10);
    expect(samples[0]?.cpuPercent).toBeGreaterThanOrEqual(0);
  });

  it('maps schema errors to the abcdesktop 422 shape, one entry per param, with the spec texts', async () => {
    const { app } = await build();
    app.post(
      '/spawn',
      {
        schema: {
          body: Type.Object({
            command: Type.String({ messages: { required: 'No command provided', type: 'Command must be a string' } }),
            windowsid: Type.Optional(Type.Array(Type.Integer({ messages: { type: 'All windowsid must be number' } }), { minItems: 1 })),
          }),
        },
      },
      async () => ({ code: 200, data: 'ok' }),
    );
    const missing = await app.inject({ method: 'POST', url: '/spawn', headers: auth, payload: {} });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toEqual({ errors: [{ location: 'body', param: 'command', msg: 'No command provided' }] });
    const typed = await app.inject({ method: 'POST', url: '/spawn', headers: auth, payload: { command: 1, windowsid: [1, 'x'] } });
    expect(typed.json()).toEqual({
      errors: [
        { location: 'body', param: 'command', value: 1, msg: 'Command must be a string' },
        // spec: an array rule names the array, with the whole array as its value
        { location: 'body', param: 'windowsid', value: [1, 'x'], msg: 'All windowsid must be number' },
      ],
    });
  });

  it('follows express-validator: declaration order, first failing rule, values as received, null as not provided', async () => {
    const { app } = await build();
    app.post(
      '/rules',
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['cols', 'rows'],
            properties: {
              cols: { type: 'integer', minimum: 1, messages: { required: 'No cols provided', type: 'Cols must be a number', minimum: 'Cols too small' } },
              rows: { type: 'integer', messages: { required: 'No rows provided', type: 'Rows must be a number' } },
            },
          },
        },
      },
      async () => ({ ok: true }),
    );
    app.post(
      '/body',
      {
        schema: {
          body: {
            type: 'object',
            required: ['file', 'list'],
            properties: {
              file: { type: 'string', minLength: 1, messages: { required: 'No file provided', type: 'file must be a string' } },
              list: {
                type: 'array',
                minItems: 1,
                messages: { required: 'No list provided', missingToo: 'List must be a non-empty array', default: 'List must be a non-empty array' },
              },
              color: {
                type: 'string',
                allOf: [
                  { pattern: '^#?[0-9a-f]{3,8}$', messages: { pattern: 'not hexa' } },
                  { pattern: '^#[0-9a-f]{6}$', messages: { pattern: 'bad pattern' } },
                ],
              },
            },
          },
        },
      },
      async () => ({ ok: true }),
    );
    const q = async (query: string) => (await app.inject({ method: 'POST', url: `/rules?${query}`, headers: auth })).json();
    // rows is missing (a `required` error, which ajv reports first), yet cols comes first: declaration order
    expect(await q('cols=0')).toEqual({
      errors: [
        { location: 'query', param: 'cols', value: '0', msg: 'Cols too small' },
        { location: 'query', param: 'rows', msg: 'No rows provided' },
      ],
    });
    const b = async (payload: object) => (await app.inject({ method: 'POST', url: '/body', headers: auth, payload })).json();
    expect(await b({ file: null, list: [1] })).toEqual({ errors: [{ location: 'body', param: 'file', value: null, msg: 'No file provided' }] });
    expect(await b({ file: 'f' })).toEqual({
      errors: [
        { location: 'body', param: 'list', msg: 'No list provided' },
        { location: 'body', param: 'list', msg: 'List must be a non-empty array' },
      ],
    });
    expect(await b({ file: 'f', list: [1], color: 'zz' })).toEqual({ errors: [{ location: 'body', param: 'color', value: 'zz', msg: 'not hexa' }] });
    expect(await b({ file: 'f', list: [1], color: '000000' })).toEqual({ errors: [{ location: 'body', param: 'color', value: '000000', msg: 'bad pattern' }] });
  });

  it('coerces query strings but not bodies', async () => {
    const { app } = await build();
    app.post(
      '/size',
      { schema: { querystring: Type.Object({ cols: Type.Integer({ messages: { required: 'No cols provided', type: 'Cols must be a number' } }) }) } },
      async (request) => ({ cols: request.query.cols }),
    );
    expect((await app.inject({ method: 'POST', url: '/size?cols=80', headers: auth })).json()).toEqual({ cols: 80 });
    expect((await app.inject({ method: 'POST', url: '/size?cols=eighty', headers: auth })).json()).toEqual({
      errors: [{ location: 'query', param: 'cols', value: 'eighty', msg: 'Cols must be a number' }],
    });
  });

  it('answers HttpError and ValidationError thrown by handlers, and hides unexpected errors', async () => {
    const { app, sink } = await build();
    app.get('/gone', async () => {
      throw new HttpError(404, 'Unknow image x');
    });
    app.get('/bad', async () => {
      throw new ValidationError([{ location: 'body', param: 'windowsid', value: [9], msg: 'Unknow window_id [9]' }]);
    });
    app.get('/boom', async () => {
      throw new Error('secret internals');
    });
    expect((await app.inject({ url: '/gone', headers: auth })).json()).toEqual({ code: 404, data: 'Unknow image x' });
    const bad = await app.inject({ url: '/bad', headers: auth });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toEqual({ errors: [{ location: 'body', param: 'windowsid', value: [9], msg: 'Unknow window_id [9]' }] });
    const boom = await app.inject({ url: '/boom', headers: auth });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ code: 500, data: 'Internal server error' });
    expect(sink.lines.join('')).toContain('secret internals');
  });

  it('refuses a foreign Origin and a cross-site fetch before credentials, and lets the own host in', async () => {
    const { app } = await build();
    app.get('/private', async () => ({ ok: true }));
    const foreign = await app.inject({ url: '/private', headers: { ...auth, origin: 'http://evil.example', host: 'desktop:1' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toEqual({ code: 403, data: 'Forbidden: Origin not allowed' });
    expect((await app.inject({ url: '/private', headers: { ...auth, origin: 'null' } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/private', headers: { ...auth, 'sec-fetch-site': 'cross-site' } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/private', headers: { ...auth, origin: 'http://desktop:1', host: 'desktop:1' } })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/private', headers: { ...auth, origin: 'https://ui.example', host: 'x', 'x-forwarded-host': 'ui.example' } })).statusCode,
    ).toBe(200);
  });

  it('keeps probes open, requires credentials elsewhere, and never logs them', async () => {
    const { app, sink } = await build();
    app.get('/private', async () => ({ ok: true }));
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/private' })).statusCode).toBe(401);
    // a token in the URL of a plain HTTP request is not accepted (it would sit in logs and history)
    expect((await app.inject({ url: `/private?jwt_token=${TOKEN}` })).statusCode).toBe(401);
    expect((await app.inject({ url: '/private?%' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/private', headers: auth })).statusCode).toBe(200);
    expect(sink.lines.join('')).not.toContain(TOKEN);
  });

  it('reports readiness from the check, with its reason and a timeout', async () => {
    let failure: string | undefined = 'no display';
    const { app } = await build(async () => {
      if (failure === 'hang') await new Promise(() => {});
      if (failure) throw new Error(failure);
    });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ready: false, reason: 'no display' });
    failure = 'hang';
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ready: false, reason: 'readiness check timed out after 200 ms' });
    failure = undefined;
    const ok = await app.inject({ url: '/readyz' });
    expect(ok.statusCode).toBe(200);
  });

  it('reports a check that throws before it awaits, and leaves no timeout to reject later', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const { app } = await build(() => {
        throw new Error('display is reconnecting');
      });
      expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ready: false, reason: 'display is reconnecting' });
      await new Promise((resolve) => setTimeout(resolve, 300)); // past the 200 ms timeout
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
