// The one owner of how the desktop's PulseAudio server is set up, for the sound agent (at every connection) and the
// spawner's audio routes (configurePulse, setAudioQuality): the desktop sink, the microphone source, which sink is the
// default, and the RTP sender. Before it, the spawner unloaded every sender and made a sink of its own the default
// while the sound agent captured the desktop sink: new applications then played where no listener heard them.
// Functions over a connected pulseaudio.js client (types only here: the library is loaded by whoever connects).
import type { PulseAudio } from 'pulseaudio.js';

/** What module-rtp-send names the stream it records: how the senders are found (pulseaudio.js cannot list modules). */
export const RTP_SENDER_STREAM = 'RTP Monitor Stream';

export interface DesktopAudio {
  /** The desktop sink: made when missing, the default at every setup. */
  sink: string;
  /** The microphone source the browser talks into (a null sink "<name>.input" feeds it): the default source. */
  microphone: string;
  /** Where the default sink's monitor is sent as RTP (a WebRTC gateway), when configured. */
  rtp?: { ip: string; port: number };
}

/** A PULSE_SERVER value ("unix:/path" or a path) as the socket path pulseaudio.js takes (unix sockets only). */
export function socketPath(pulseServer: string): string {
  return pulseServer.startsWith('unix:') ? pulseServer.slice(5) : pulseServer;
}

/** abcdesktop's PULSEAUDIO_COOKIE (hex) as the 256-byte cookie the native protocol sends; none when unset. */
export function cookieOf(hex: string | undefined): Buffer | undefined {
  if (!hex) return undefined;
  const one = Buffer.from(hex.slice(0, 32), 'hex');
  return Buffer.concat(Array.from({ length: 8 }, () => one));
}

/** A connection for a few calls (the spawner's routes); the library is loaded on the first. */
export async function withAudioServer<T>(server: { pulseServer: string; cookie?: string | undefined }, use: (client: PulseAudio) => Promise<T>): Promise<T> {
  const { PulseAudio: Client } = await import('pulseaudio.js');
  const client = new Client('desktop-agents', cookieOf(server.cookie), socketPath(server.pulseServer));
  client.on('error', () => undefined); // a dropped socket fails the call in progress, which is what is reported
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

const namesOf = (list: Array<Record<string, unknown>>) => list.map((entry) => String(entry['name'] ?? ''));

/** The desktop sink, the microphone, the defaults and the RTP sender, made to be what `audio` says (idempotent). */
export async function prepareDesktopAudio(client: PulseAudio, audio: DesktopAudio): Promise<void> {
  const sinks = namesOf(await client.getAllSinks());
  if (!sinks.includes(audio.sink)) {
    await client.loadModule('module-null-sink', { sink_name: audio.sink, rate: 48000, sink_properties: 'device.description=Desktop' });
  }
  const input = `${audio.microphone}.input`;
  if (!sinks.includes(input)) {
    await client.loadModule('module-null-sink', {
      sink_name: input,
      format: 'float32le',
      rate: 48000,
      channels: 1,
      sink_properties: { 'device.description': 'Browser microphone (input)' },
    });
  }
  if (!namesOf(await client.getAllSources()).includes(audio.microphone)) {
    await client.loadModule('module-remap-source', {
      source_name: audio.microphone,
      master: `${input}.monitor`,
      channels: 1,
      source_properties: { 'device.description': 'Browser microphone' },
    });
  }
  await client.setDefaultSource(audio.microphone);
  await client.setDefaultSink(audio.sink);
  if (audio.rtp) await sendRtp(client, audio.rtp, audio.sink);
}

/** The sink applications play to now (and what the listeners and the RTP sender hear). */
export async function defaultSink(client: PulseAudio): Promise<string> {
  return (await client.getServerInfo()).defaultSink;
}

/**
 * Exactly one module-rtp-send, from the default sink's monitor (`sink` when the caller has just made it the default)
 * to `destination`: any earlier sender is replaced.
 */
export async function sendRtp(client: PulseAudio, destination: { ip: string; port: number }, sink?: string): Promise<void> {
  const senders = await rtpSenders(client);
  for (const module of new Set(senders.map((o) => o.module))) await client.unloadModule(module);
  const source = `${sink ?? (await defaultSink(client))}.monitor`;
  await client.loadModule('module-rtp-send', { source, destination_ip: destination.ip, port: destination.port });
}

/** The RTP senders' record streams: their source output and module. */
export async function rtpSenders(client: PulseAudio): Promise<Array<{ index: number; module: number }>> {
  return (await client.getSourceOutputList())
    .filter((o) => o['name'] === RTP_SENDER_STREAM)
    .map((o) => ({ index: Number(o['index']), module: Number(o['module']) }));
}

/**
 * Makes an existing sink the default (the applications that follow the default move to it, as PulseAudio does), and
 * the RTP sender with it; the sound agent's captures follow the default on their own. False when there is no such sink.
 */
export async function makeDefaultSink(client: PulseAudio, sink: string): Promise<boolean> {
  if (!namesOf(await client.getAllSinks()).includes(sink)) return false;
  await client.setDefaultSink(sink);
  for (const sender of await rtpSenders(client)) await client.moveSourceOutput(sender.index, `${sink}.monitor`);
  return true;
}
