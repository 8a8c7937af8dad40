import { startCups, startDbusSession, startPulse, startXvfb, type CupsServer, type DbusSession, type PulseServer, type XServer } from '../harness/index.js';

export interface PodComponents {
  x: XServer | undefined;
  pulse: PulseServer | undefined;
  cups: CupsServer | undefined;
  /** the desktop's session bus, where the spawner serves notifications (the graphical container's in the pod) */
  dbus: DbusSession | undefined;
  problems: string[];
  stop(): Promise<void>;
}

async function attempt<T>(what: string, start: () => Promise<T>, problems: string[]): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    problems.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/**
 * The pod's real dependencies: an X display with openbox, PulseAudio with the desktop sink, cupsd with a PDF queue,
 * the desktop's session D-Bus.
 */
export async function startComponents(): Promise<PodComponents> {
  const problems: string[] = [];
  const [x, pulse, cups, dbus] = await Promise.all([
    attempt('X display', () => startXvfb({ windowManager: true }), problems),
    attempt('PulseAudio', () => startPulse(), problems),
    attempt('cupsd', () => startCups(), problems),
    attempt('session D-Bus', () => startDbusSession(), problems),
  ]);
  const components: PodComponents = {
    x,
    pulse,
    cups,
    dbus,
    problems,
    // the current servers: a test may have replaced one (an X server brought back after a kill)
    async stop() {
      await Promise.all([components.x?.stop(), components.pulse?.stop(), components.cups?.stop(), components.dbus?.stop()]);
    },
  };
  return components;
}

/** The env that points an agent at the pod's components (only those running). */
export function componentsEnv({ x, pulse, cups, dbus }: Pick<PodComponents, 'x' | 'pulse' | 'cups' | 'dbus'>): Record<string, string> {
  return {
    ...(x ? { DISPLAY: x.display } : {}),
    ...(pulse ? { PULSE_SERVER: pulse.server } : {}),
    ...(cups ? { CUPS_SERVER: cups.server, PRINTER_NAME: cups.printer, WATCHDIR: cups.outDir } : {}),
    ...(dbus ? dbus.env : {}),
  };
}
