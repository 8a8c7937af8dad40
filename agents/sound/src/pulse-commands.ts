import type { PulseAudio } from 'pulseaudio.js';
// not exported by the package's index: the command classes pulseaudio.js builds its own calls with
import { PA_COMMAND, SelectByIndex } from 'pulseaudio.js/dist/command.js';

/** Drops what pulse holds for a record stream (PA_COMMAND_FLUSH_RECORD_STREAM), which pulseaudio.js does not wrap. */
export async function flushRecordStream(client: PulseAudio, index: number): Promise<void> {
  await client._invoke(new SelectByIndex(PA_COMMAND.FLUSH_RECORD_STREAM, index));
}
