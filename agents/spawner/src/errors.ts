import { HttpError } from '@desktop-agents/kit';

/** The X display does not answer (not started yet, or gone): the routes answer 503 until it is back. */
export class DisplayUnavailable extends HttpError {
  constructor(message: string) {
    super(503, message, 'DISPLAY_UNAVAILABLE');
    this.name = 'DisplayUnavailable';
  }
}

/** The command's policy does not allow these arguments (none, or files inside home only). */
export class ArgumentsRefused extends HttpError {
  constructor(message: string) {
    super(403, message, 'ARGUMENTS_REFUSED');
    this.name = 'ArgumentsRefused';
  }
}

/** The handled command's program does not start (missing from this image, not executable). */
export class LaunchFailed extends HttpError {
  constructor(message: string) {
    super(500, message, 'LAUNCH_FAILED');
    this.name = 'LaunchFailed';
  }
}
