import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { makeRunDir, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface DbusSession {
  /** DBUS_SESSION_BUS_ADDRESS for clients: "unix:path=<socket>". */
  address: string;
  daemon: ManagedProcess;
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  stop(): Promise<void>;
}

/** A private session bus (dbus-daemon --session) on a unix socket of its own folder; resolves once it listens. */
export async function startDbusSession(): Promise<DbusSession> {
  const daemonPath = requireCommand('dbus-daemon', 'dbus-daemon');
  const { dir, remove } = await makeRunDir('dbus');
  const socket = join(dir, 'bus');
  const address = `unix:path=${socket}`;
  const daemon = startProcess('dbus-daemon', daemonPath, ['--session', '--nofork', '--nopidfile', `--address=${address}`]);
  try {
    await daemon.aliveWhile(waitFor('dbus-daemon socket', async () => existsSync(socket)));
  } catch (err) {
    await daemon.stop();
    await remove();
    throw err;
  }
  return {
    address,
    daemon,
    env: { DBUS_SESSION_BUS_ADDRESS: address },
    stop: async () => {
      await daemon.stop();
      await remove();
    },
  };
}
