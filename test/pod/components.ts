import { startCups, startPulse, startXvfb, type CupsServer, type PulseServer, type XServer } from '../harness/index.js';

export interface PodComponents {
  x: XServer | undefined;
  pulse: PulseServer | undefined;
  cups: CupsServer | undefined;
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

/** The pod's real dependencies: an X display with openbox, PulseAudio with the desktop sink, cupsd with a PDF queue. */
export async function startComponents(): Promise<PodComponents> {
  const problems: string[] = [];
  const [x, pulse, cups] = await Promise.all([
    attempt('X display', () => startXvfb({ windowManager: true }), problems),
    attempt('PulseAudio', () => startPulse(), problems),
    attempt('cupsd', () => startCups(), problems),
  ]);
  return {
    x,
    pulse,
    cups,
    problems,
    async stop() {
      await Promise.all([x?.stop(), pulse?.stop(), cups?.stop()]);
    },
  };
}
