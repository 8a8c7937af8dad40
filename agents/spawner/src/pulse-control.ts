import { execFile } from 'node:child_process';
import type { PulseAudio } from 'pulseaudio.js';
import { childEnv, HttpError } from '@desktop-agents/kit';
import { makeDefaultSink, sendRtp, withAudioServer } from '@desktop-agents/kit/audio-server';
import { ERRORS } from './errors.js';

export interface PulseInfo {
  serverName: string;
  serverVersion: string;
  defaultSink: string;
  defaultSource: string;
}

/**
 * The spawner's PulseAudio operations against the pod's server: what changes the server's setup goes through the
 * kit's audio-server (its one owner, shared with the sound agent); what only reads it, pactl as argv.
 */
export class PulseControl {
  constructor(
    private readonly server: string,
    private readonly cookie: string | undefined,
  ) {}

  #pactl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('pactl', args, { env: childEnv({ PULSE_SERVER: this.server }), timeout: 5000 }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout),
      ),
    );
  }

  async available(): Promise<boolean> {
    return this.#pactl(['info']).then(
      () => true,
      () => false,
    );
  }

  #withServer<T>(use: (client: PulseAudio) => Promise<T>): Promise<T> {
    return withAudioServer({ pulseServer: this.server, cookie: this.cookie }, use).catch((err: unknown) => {
      if (err instanceof HttpError) throw err;
      throw ERRORS.PULSE_UNREACHABLE();
    });
  }

  /** Makes an existing sink the default (and the RTP sender's source with it); returns the pactl arguments it stands for. */
  async setDefaultSink(sink: string): Promise<string[]> {
    await this.#withServer(async (client) => {
      if (!(await makeDefaultSink(client, sink))) throw ERRORS.UNKNOWN_SINK(sink);
    });
    return ['set-default-sink', sink];
  }

  /**
   * One module-rtp-send from the default sink's monitor to destination (any earlier sender replaced, so it is
   * idempotent); the default sink stays what it was, so the sound agent's listeners keep hearing the desktop. Debian's
   * pulseaudio sends RTP through GStreamer: L16 only, no A-law.
   */
  async sendRtp(ip: string, port: number): Promise<void> {
    await this.#withServer((client) => sendRtp(client, { ip, port }));
  }

  async info(): Promise<PulseInfo> {
    const info = await this.#pactl(['info']).catch(() => {
      throw ERRORS.PULSE_UNREACHABLE();
    });
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(info)?.[1] ?? '';
    return {
      serverName: field('Server Name'),
      serverVersion: field('Server Version'),
      defaultSink: field('Default Sink'),
      defaultSource: field('Default Source'),
    };
  }
}
