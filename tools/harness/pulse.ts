import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { makeRunDir, run, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface PulseServer {
  /** Path of the native-protocol unix socket. */
  socket: string;
  /** PULSE_SERVER value for clients: "unix:<socket>". */
  server: string;
  /** Name of the null sink standing in for the desktop's output. */
  sink: string;
  dir: string;
  daemon: ManagedProcess;
  env: { PULSE_SERVER: string };
  /** Runs pactl against this server (argv only). */
  pactl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** Stops the daemon but keeps the folder, so restart() comes back on the same socket. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * PulseAudio with a null sink ("desktop") on a private unix socket, no config files read (-n), anonymous auth on
 * that socket only. Resolves once `pactl info` answers.
 */
export async function startPulse(sink = 'desktop'): Promise<PulseServer> {
  const pulseaudio = requireCommand('pulseaudio', 'pulseaudio');
  const pactlPath = requireCommand('pactl', 'pulseaudio-utils');
  const { dir, remove } = await makeRunDir('pulse');
  const socket = join(dir, 'pulse.sock');
  const env = { ...process.env, HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'xdg'), PULSE_SERVER: `unix:${socket}` };
  await mkdir(env.HOME, { recursive: true });
  await mkdir(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const pactl = (...args: string[]) => run(pactlPath, args, { env }, 5000);

  const launch = async (): Promise<ManagedProcess> => {
    const daemon = startProcess(
      'pulseaudio',
      pulseaudio,
      [
        '-n',
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--system=no',
        `--log-target=file:${join(dir, 'pulse.log')}`,
        '-L',
        `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        '-L',
        `module-null-sink sink_name=${sink} rate=48000 sink_properties=device.description=Desktop`,
        '-L',
        'module-always-sink',
      ],
      { env },
    );
    try {
      await daemon.aliveWhile(waitFor('PulseAudio', async () => (await pactl('info')).includes('Server Name')));
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  };

  const server: PulseServer = {
    socket,
    server: `unix:${socket}`,
    sink,
    dir,
    daemon: await launch().catch(async (err: unknown) => {
      await remove();
      throw err;
    }),
    env: { PULSE_SERVER: `unix:${socket}` },
    pactl,
    async kill() {
      await server.daemon.stop();
    },
    async restart() {
      await server.daemon.stop();
      server.daemon = await launch();
    },
    async stop() {
      await server.daemon.stop();
      await remove();
    },
  };
  return server;
}
