import { errorTable } from '@desktop-agents/kit';

export const ERRORS = errorTable({
  PID_NOT_FOUND: { status: 404, text: 'Pid not found' },
  TOO_MANY_TERMINALS: { status: 429, text: 'Too many terminals' },
});
