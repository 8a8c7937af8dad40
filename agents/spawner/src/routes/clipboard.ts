import { execFile } from 'node:child_process';
import type { FastifyPluginAsync, FastifyBaseLogger } from 'fastify';
import { childEnv, type ChildProcesses } from '@desktop-agents/kit';

/** Reads a selection with xclip (argv, bounded output and time). */
function readSelection(display: string, selection: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('xclip', ['-o', '-selection', selection], { env: childEnv({ DISPLAY: display }), timeout: 2000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}

/**
 * Takes a selection with xclip, which owns it until another client takes it (its output is not kept, so it never
 * blocks). `-quiet` keeps it in the foreground: without it xclip forks, and the owner outlives the spawner; this way
 * it stays one of our children, killed on shutdown.
 */
function ownSelection(children: ChildProcesses, display: string, selection: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const { child } = children.spawn('xclip', ['-quiet', '-i', '-selection', selection], { env: childEnv({ DISPLAY: display }), stdio: ['pipe', 'ignore', 'ignore'] });
    child.once('error', reject);
    child.stdin?.end(text, () => resolve());
  });
}

/** abcdesktop's clipboardsync: copies PRIMARY to CLIPBOARD and SECONDARY; it answers first and copies after. */
export function clipboardRoutes(display: string): FastifyPluginAsync {
  const sync = async (children: ChildProcesses, log: FastifyBaseLogger) => {
    try {
      const text = await readSelection(display, 'primary');
      await ownSelection(children, display, 'clipboard', text);
      await ownSelection(children, display, 'secondary', text);
      log.info({ bytes: Buffer.byteLength(text) }, 'clipboard synchronised');
    } catch (err) {
      log.info({ err: { message: (err as Error).message } }, 'clipboard not synchronised');
    }
  };
  return async (app) => {
    app.post('/clipboardsync', async (request) => {
      setImmediate(() => void sync(app.children, request.log));
      return { code: 200, data: 'ok' };
    });
  };
}
