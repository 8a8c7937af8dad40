import { HttpError } from '@desktop-agents/kit';

/** cupsd did not answer (down, or too slow): the routes answer 503 with this message. */
export class CupsUnreachable extends HttpError {
  constructor(message: string) {
    super(503, message, 'CUPS_UNREACHABLE');
    this.name = 'CupsUnreachable';
  }
}

/** cupsd answered with a failure status for an operation. */
export class IppFailure extends HttpError {
  constructor(message: string) {
    super(502, message, 'IPP_FAILURE');
    this.name = 'IppFailure';
  }
}
