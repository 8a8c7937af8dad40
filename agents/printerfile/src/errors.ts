import { errorTable } from '@desktop-agents/kit';

/** The printerfile's own errors (the file routes' are the kit's). */
export const ERRORS = errorTable({
  /** cupsd did not answer (down, or too slow). */
  CUPS_UNREACHABLE: { status: 503, text: (why: string) => why },
  /** cupsd answered an operation with a failure status. */
  IPP_FAILURE: { status: 502, text: (why: string) => why },
});
