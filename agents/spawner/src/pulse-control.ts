import { execFile } from 'node:child_process';
import { childEnv } from '@desktop-agents/kit';
import { ERRORS } from './errors.js';

export interface PulseInfo {
  serverName: string;
  serverVersion: string;
  defaultSink: string;
  defaultSource: string;
}

/** The spawner's PulseAudio operations, with pactl as argv only against the pod's server. */
export class PulseControl {
  constructor(private readonly server: string) {}

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

  async #sinkNames(): Promise<string[]> {
    const sinks = await this.#pactl(['list', 'short', 'sinks']).catch(() => {
      throw ERRORS.PULSE_UNREACHABLE();
    });
    return sinks.split('\n').map((line) => line.split('\t')[1] ?? '');
  }

  /** Makes an existing sink the default; returns the pactl arguments it ran. */
  async setDefaultSink(sink: string): Promise<string[]> {
    if (!(await this.#sinkNames()).includes(sink)) throw ERRORS.UNKNOWN_SINK(sink);
    const args = ['set-default-sink', sink];
    await this.#pactl(args);
    return args;
  }

  /**
   * One module-rtp-send from the `rtp` sink's monitor to destination (any earlier sender replaced, so it is
   * idempotent), and `rtp` as the default sink. Debian's pulseaudio sends RTP through GStreamer: L16 only, no A-law.
   */
  async sendRtp(ip: string, port: number): Promise<void> {
    const modules = await this.#pactl(['list', 'short', 'modules']);
    for (const line of modules.split('\n')) {
      const [index, name] = line.split('\t');
      if (name === 'module-rtp-send' && index) await this.#pactl(['unload-module', index]);
    }
    if (!(await this.#sinkNames()).includes('rtp')) {
      await this.#pactl(['load-module', 'module-null-sink', 'sink_name=rtp', 'format=alaw', 'rate=8000', 'channels=1']);
    }
    await this.#pactl(['load-module', 'module-rtp-send', 'source=rtp.monitor', `destination_ip=${ip}`, `port=${port}`]);
    await this.#pactl(['set-default-sink', 'rtp']);
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
