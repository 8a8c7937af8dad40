import { HttpError } from '@desktop-agents/kit';

/** The PulseAudio daemon is not reachable now: the routes answer 503 with this message. */
export class PulseDown extends HttpError {
  constructor(message: string) {
    super(503, message, 'PULSE_DOWN');
    this.name = 'PulseDown';
  }
}
