import { HttpError } from '@desktop-agents/kit';

/** The X display does not answer (not started yet, or gone): the routes answer 503 until it is back. */
export class DisplayUnavailable extends HttpError {
  constructor(message: string) {
    super(503, message, 'DISPLAY_UNAVAILABLE');
    this.name = 'DisplayUnavailable';
  }
}
