import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { routeConsoleToLogger } from '../src/logger.js';

/* eslint-disable no-console -- the console is what is routed */
const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, error: console.error };
const savedWarningListeners = process.listeners('warning');
afterAll(() => {
  Object.assign(console, saved);
  process.removeAllListeners('warning');
  for (const listener of savedWarningListeners) process.on('warning', listener);
});

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe("the console and Node's warnings through the logger", () => {
  it('logs a warning once as a warning, and leaves every other process listener of warnings in place', async () => {
    const others: string[] = [];
    const other = (warning: Error) => others.push(warning.message);
    process.on('warning', other);
    const first = capture();
    routeConsoleToLogger(first.logger);
    // routed again (a second start in one process): the first routing's listener goes, the other stays
    const second = capture();
    routeConsoleToLogger(second.logger);
    process.emitWarning('a library did something old', { code: 'DEP_TEST' });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(others).toEqual(['a library did something old']);
    expect(first.lines).toEqual([]);
    expect(second.lines.filter((l) => l['msg'] === 'process warning').map((l) => [l['level'], l['code']])).toEqual([[40, 'DEP_TEST']]);
    // Node's own printer is gone: nothing reached the console as an error line
    expect(second.lines.filter((l) => l['level'] === 50)).toEqual([]);
    process.off('warning', other);
  });
});
