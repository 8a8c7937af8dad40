import type { WebSocket } from 'ws';
import { MicrophoneBusy, type Microphone, type Talk } from './microphone.js';
import { formatFrameFields } from './format-frame.js';
import type { SampleSpec } from './pulse.js';

/** Why a page's format frame was refused, or its format. */
export function parseTalkFormat(text: string): SampleSpec | string {
  const fields = formatFrameFields(text, '{"type":"format",...}');
  if (typeof fields === 'string') return fields;
  const { rate, channels = 1, format = 'f32le' } = fields;
  if (!Number.isInteger(rate) || (rate as number) < 8000 || (rate as number) > 192000) return 'rate must be an integer from 8000 to 192000';
  if (channels !== 1 && channels !== 2) return 'channels must be 1 or 2';
  if (format !== 'f32le' && format !== 's16le') return 'format must be "f32le" or "s16le"';
  return { format, rate: rate as number, channels };
}

/**
 * A page talking into the desktop's microphone: an optional text frame {"type":"format","rate":N,"channels":1}
 * (abcdesktop 4.x sends none: float32 mono 44.1 kHz then), then binary messages of little-endian samples. Refusals
 * close the socket with a reason: 1013 while another page talks, 1007 for malformed frames.
 */
export function talkOver(socket: WebSocket, microphone: Microphone): void {
  let talk: Talk;
  try {
    talk = microphone.claim();
  } catch (err) {
    if (err instanceof MicrophoneBusy) return socket.close(1013, 'microphone in use by another page');
    throw err;
  }
  socket.on('close', () => talk.close());
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      const spec = parseTalkFormat(data.toString('utf8'));
      if (typeof spec === 'string') return socket.close(1007, spec);
      if (!talk.format(spec)) return socket.close(1007, 'the format frame must come before the first samples');
      return;
    }
    if (data.length % talk.frameBytes !== 0) return socket.close(1007, `audio messages must hold whole frames of ${talk.frameBytes} bytes`);
    talk.push(data);
  });
}
