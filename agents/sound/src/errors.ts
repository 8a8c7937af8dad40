import { errorTable } from '@desktop-agents/kit';

export const ERRORS = errorTable({
  /** The PulseAudio daemon is not reachable now. */
  PULSE_UNREACHABLE: { status: 503, text: 'PulseAudio is not reachable' },
  UNKNOWN_SINK: { status: 404, text: (name: string) => `Unknown sink ${name}` },
});
