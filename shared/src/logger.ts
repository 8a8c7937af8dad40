import { writeSync } from 'node:fs';
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

/** How long a line waits for a full standard output (a non-blocking pipe whose reader lags) before it is dropped. */
const FULL_OUTPUT_WAIT_MS = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));
let outputGone = false;

/**
 * Standard output for every logger of the process, each line written synchronously: nothing is left to flush at exit.
 * pino's own asynchronous stream flushes at exit and retries a write that failed with EPIPE forever, so an agent
 * whose log reader went away never exited on SIGTERM. Here a reader gone (EPIPE) silences the logs, never the
 * agent; a full pipe holds a line up to 100 ms, then drops it.
 */
export const standardOutput: DestinationStream = {
  write(line: string): void {
    if (outputGone) return;
    let data = Buffer.from(line);
    const deadline = Date.now() + FULL_OUTPUT_WAIT_MS;
    while (data.length > 0) {
      try {
        data = data.subarray(writeSync(1, data));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && Date.now() < deadline) Atomics.wait(pause, 0, 0, 1);
        else {
          outputGone = code === 'EPIPE' || code === 'EBADF';
          return;
        }
      }
    }
  },
};

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
  // default listener, which made them error lines: they are warnings, logged once each with their code
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => log.warn({ name: warning.name, code: warning.code, text: warning.message }, 'process warning'));
}
