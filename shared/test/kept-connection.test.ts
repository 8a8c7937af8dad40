import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Backoff, KeptConnection } from '../src/index.js';

const log = pino({ level: 'silent' });
const until = async (check: () => boolean, ms = 2000) => {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A fake server: refuses the first `refusals` attempts, then hands out connections that can be dropped. */
function server(refusals: number) {
  const made: EventEmitter[] = [];
  let attempts = 0;
  const disconnected: EventEmitter[] = [];
  const link = new KeptConnection<EventEmitter>({
    name: 'fake',
    connect: async () => {
      attempts += 1;
      if (attempts <= refusals) throw new Error(`refused ${attempts}`);
      const connection = new EventEmitter();
      made.push(connection);
      return connection;
    },
    watch: (connection, lost) => connection.once('gone', () => lost('dropped')),
    disconnect: (connection) => void disconnected.push(connection),
    backoff: new Backoff(1, 4, false),
    log,
  });
  return { link, made, disconnected, attempts: () => attempts };
}

describe('a kept connection', () => {
  it('tries at start, says why it has none, and connects once the server is there', async () => {
    const { link, made, attempts } = server(2);
    await link.start();
    expect(link.current).toBeUndefined();
    expect(link.reason).toBe('fake not available: refused 1');
    await until(() => link.current !== undefined);
    expect(attempts()).toBe(3);
    expect(link.reason).toBeUndefined();
    expect(made).toHaveLength(1);
    await link.close();
  });

  it('tells listeners of each connection and each loss, and connects again after a loss', async () => {
    const { link, made } = server(0);
    const events: string[] = [];
    link.onConnect(() => events.push('connected'));
    link.onLost((reason) => events.push(`lost: ${reason}`));
    await link.start();
    made[0]?.emit('gone');
    expect(link.reason).toBe('fake lost: dropped');
    await until(() => made.length === 2 && link.current === made[1]);
    // a second loss report of the old connection is ignored
    made[0]?.emit('gone');
    expect(events).toEqual(['connected', 'lost: dropped', 'connected']);
    await link.close();
  });

  it('ends the connection at close, and one that completes after close, and tries no more', async () => {
    const { link, made, disconnected, attempts } = server(0);
    await link.start();
    await link.close();
    expect(disconnected).toEqual([made[0]]);
    expect(link.reason).toBe('closed');
    const before = attempts();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(attempts()).toBe(before);

    let release: (() => void) | undefined;
    const slow = new KeptConnection<EventEmitter>({
      name: 'slow',
      connect: () => new Promise((resolve) => (release = () => resolve(new EventEmitter()))),
      watch: () => undefined,
      disconnect: (c) => void disconnected.push(c),
      backoff: new Backoff(1, 4, false),
      log,
    });
    const started = slow.start();
    await slow.close();
    release?.();
    await started;
    expect(slow.current).toBeUndefined();
    expect(disconnected).toHaveLength(2);
  });
});
