import { existsSync } from 'node:fs';
import { requireCommand } from './components.js';
import { run, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface XServer {
  /** e.g. ":42" */
  display: string;
  xvfb: ManagedProcess;
  windowManager: ManagedProcess | undefined;
  /** Env for a client of this display. */
  env: { DISPLAY: string };
  stop(): Promise<void>;
  /** Stops it and starts it again on the same display number (a crashed X server coming back). */
  restart(): Promise<void>;
}

export interface XvfbOptions {
  /** Start openbox on the display (needed for _NET_CLIENT_LIST and EWMH messages). */
  windowManager?: boolean;
  screen?: string;
  /** A fixed display number (to bring a server back where a client expects it); random by default. */
  displayNumber?: number;
  /**
   * Which X server: Xvfb (default), or TigerVNC's Xvnc (what desktop images run), whose RANDR can resize the screen
   * and add modes (Xvfb's screen cannot grow past its start size, nor take new modes). Xvnc listens for no VNC client.
   */
  server?: 'xvfb' | 'xvnc';
}

/** The X server's program and its arguments for display `number` (it writes the number it took on fd 3). */
function serverCommand(options: XvfbOptions, number: number): { name: string; path: string; args: string[] } {
  const screen = options.screen ?? '1280x800x24';
  if (options.server === 'xvnc') {
    const [geometry, depth] = [screen.split('x').slice(0, 2).join('x'), screen.split('x')[2] ?? '24'];
    return {
      name: 'Xvnc',
      path: requireCommand('Xtigervnc', 'tigervnc-standalone-server'),
      args: [
        `:${number}`,
        '-displayfd',
        '3',
        '-geometry',
        geometry,
        '-depth',
        depth,
        '-SecurityTypes',
        'None',
        '-rfbport',
        '-1',
        '-nolisten',
        'tcp',
        '-noreset',
      ],
    };
  }
  // -noreset: by default Xvfb resets when its last client leaves, and a client connecting during that reset fails
  return {
    name: 'Xvfb',
    path: requireCommand('Xvfb', 'xvfb'),
    args: [`:${number}`, '-displayfd', '3', '-screen', '0', screen, '-nolisten', 'tcp', '-noreset'],
  };
}

/** Runs a display-query against the server; throws when it does not answer. */
export async function xdpyinfo(display: string): Promise<string> {
  return run(requireCommand('xdpyinfo', 'x11-utils'), ['-display', display], {}, 5000);
}

/**
 * Xvfb (or Xvnc) on a free random display number, listening on its unix socket only,
 * optionally with openbox. Resolves once xdpyinfo answers.
 */
export async function startXvfb(options: XvfbOptions = {}): Promise<XServer> {
  let xvfb: ManagedProcess | undefined;
  let number = '';
  // A random display number, not the lowest free one: a test that stops its server must not see another test's
  // new server come up on the same number.
  for (let attempt = 0; !xvfb; attempt++) {
    const candidate = options.displayNumber ?? 100 + Math.floor(Math.random() * 3900);
    if (options.displayNumber === undefined && (existsSync(`/tmp/.X${candidate}-lock`) || existsSync(`/tmp/.X11-unix/X${candidate}`))) continue;
    const command = serverCommand(options, candidate);
    const started = startProcess(command.name, command.path, command.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const fd3 = started.child.stdio[3];
    try {
      number = await started.aliveWhile(
        new Promise<string>((resolve) => {
          let text = '';
          fd3?.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('\n')) resolve(text.trim());
          });
        }),
      );
      xvfb = started;
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  const display = `:${number}`;
  try {
    await xvfb.aliveWhile(waitFor(`X display ${display}`, async () => existsSync(`/tmp/.X11-unix/X${number}`) && (await xdpyinfo(display)).length > 0));
  } catch (err) {
    await xvfb.stop();
    throw err;
  }
  let windowManager: ManagedProcess | undefined;
  if (options.windowManager) {
    windowManager = startProcess('openbox', requireCommand('openbox', 'openbox'), ['--sm-disable'], { env: { ...process.env, DISPLAY: display } });
    // openbox is up when it has set _NET_SUPPORTING_WM_CHECK on the root window
    await windowManager.aliveWhile(
      waitFor('openbox', async () =>
        (await run(requireCommand('xprop', 'x11-utils'), ['-display', display, '-root', '_NET_SUPPORTING_WM_CHECK'])).includes('window id'),
      ),
    );
  }
  const server: XServer = {
    display,
    xvfb,
    windowManager,
    env: { DISPLAY: display },
    async stop() {
      await server.windowManager?.stop();
      await server.xvfb.stop();
    },
    async restart() {
      await server.stop();
      const again = await startXvfb({ ...options, displayNumber: Number(number) });
      server.xvfb = again.xvfb;
      server.windowManager = again.windowManager;
    },
  };
  return server;
}
