import { write } from 'node:fs';
import { format } from 'node:util';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths never written to the log, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.abcauthorization',
  'req.headers.cookie',
  'req.headers.broadcast_cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'headers.abcauthorization',
  'headers.cookie',
  'headers.broadcast_cookie',
  '*.AUTH_TOKEN',
  '*.JWT_PUBLIC_KEY',
  '*.BROADCAST_COOKIE',
  'AUTH_TOKEN',
  'BROADCAST_COOKIE',
  'token',
  'jwt_token',
];

export interface LoggerSettings {
  name: string;
  level?: string;
  /** Where lines go; stdout when absent. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ name, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Query strings carry tokens (jwt_token=..., webshell's raw ?<JWT>): never log them.
      req: (req: { method?: string; url?: string; ip?: string }) => ({
        method: req.method,
        url: req.url?.split('?')[0],
        remoteAddress: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  };
  return pino(options, destination ?? standardOutput);
}

/**
 * What waits for standard output at most, in characters (the lines are mostly ASCII JSON); lines past it are dropped
 * (a log reader that stopped reading).
 */
const MAX_QUEUED_CHARS = 4 * 1024 * 1024;

/**
 * Standard output for every logger of the process. Lines are queued and written asynchronously (libuv's pool, so a
 * slow log reader never stalls the event loop), coalesced into one write while one is in flight, at most
 * MAX_QUEUED_CHARS waiting. pino's own stream flushed synchronously at exit and retried a write that failed with
 * EPIPE forever, so an agent whose log reader went away never exited on SIGTERM: here a reader gone (EPIPE) silences
 * the logs, never the agent, and `flushed` waits a bounded time at shutdown.
 */
class StandardOutput implements DestinationStream {
  #queue: string[] = [];
  #queuedChars = 0;
  #writing = false;
  #gone = false;
  readonly #idle: Array<() => void> = [];

  write(line: string): void {
    if (this.#gone || this.#queuedChars + line.length > MAX_QUEUED_CHARS) return;
    this.#queue.push(line);
    this.#queuedChars += line.length;
    if (!this.#writing) this.#writeQueued();
  }

  /** Resolves once every queued line is written, the output is gone, or `timeoutMs` passed. */
  flushed(timeoutMs = 1000): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #writeQueued(): void {
    if (this.#gone || this.#queue.length === 0) {
      this.#writing = false;
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#writing = true;
    const data = Buffer.from(this.#queue.join(''));
    this.#queue = [];
    this.#queuedChars = 0;
    this.#writeAll(data);
  }

  #writeAll(data: Buffer): void {
    write(1, data, (err, written) => {
      if (err) {
        // a non-blocking pipe that is full: try again shortly; any other failure (EPIPE, EBADF) ends the logs
        if (err.code === 'EAGAIN') setTimeout(() => this.#writeAll(data), 10).unref();
        else {
          this.#gone = true;
          this.#queue = [];
          this.#writeQueued();
        }
        return;
      }
      if (written < data.length) this.#writeAll(data.subarray(written));
      else this.#writeQueued();
    });
  }
}

export const standardOutput = new StandardOutput();

/**
 * Libraries that print to the console (ipp prints "The spec is not clear..." on some replies) would break a log
 * pipeline that parses the agents' JSON lines: console output goes through the logger instead, as one JSON line.
 */
export function routeConsoleToLogger(logger: Logger): void {
  const log = logger.child({ component: 'console' });
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      log[level]({ text: format(...args) }, 'library console output');
  /* eslint-disable no-console -- replacing the console is the point here */
  console.log = line('info');
  console.info = line('info');
  console.debug = line('debug');
  console.warn = line('warn');
  console.error = line('error');
  /* eslint-enable no-console */
  // Node's own warnings (a library's deprecated call: ipp's `new Buffer()`) are printed through console.error by its
  // default listener, which made them error lines: they are warnings, logged once each with their code. Only that
  // default printer (Node names it onWarning) and a listener of ours from an earlier call are removed: whatever else
  // listens for warnings in the process keeps listening.
  for (const listener of process.listeners('warning')) {
    if (listener.name === 'onWarning' || listener === warningListener) process.off('warning', listener);
  }
  warningListener = (warning: Error & { code?: string }) => log.warn({ name: warning.name, code: warning.code, text: warning.message }, 'process warning');
  process.on('warning', warningListener);
}

let warningListener: ((warning: Error & { code?: string }) => void) | undefined;
