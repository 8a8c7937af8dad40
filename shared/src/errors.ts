/** One entry of the express-validator error list that abcdesktop callers parse. */
export interface ValidationIssue {
  location: 'body' | 'query' | 'params' | 'headers' | 'request';
  /** Absent for a request-level error (a multipart request without its file part). */
  param?: string;
  value?: unknown;
  msg: string;
}

/** An error with an HTTP status: the kit's error handler answers `{ code, data }` with that status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code: string = `HTTP_${statusCode}`,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Answered as 422 `{ errors: [...] }`, the abcdesktop validation shape. */
export class ValidationError extends Error {
  readonly statusCode = 422;
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => i.msg).join('; '));
    this.name = 'ValidationError';
  }
}

export const unauthorized = (reason: string) => new HttpError(401, reason, 'UNAUTHORIZED');
export const notFound = (what = 'Not found') => new HttpError(404, what, 'NOT_FOUND');

/** One entry of an agent's error table: its status and its text (fixed, or made from what it is about). */
export interface ErrorSpec {
  status: number;
  text: string | ((...about: never[]) => string);
}

type About<S extends ErrorSpec> = S['text'] extends (...about: infer A) => string ? A : [];

/** Makes the errors of a table: ERRORS.PID_NOT_FOUND() is an HttpError with status, text and code 'PID_NOT_FOUND'. */
export type ErrorTable<T extends Record<string, ErrorSpec>> = { readonly [K in keyof T]: (...about: About<T[K]>) => HttpError };

/**
 * An agent's errors, declared once (tus-node-server's ERRORS, fastify's createError): routes and domain modules
 * throw `ERRORS.X(...)`, the kit's error handler answers `{ code: status, data: text }` and logs the code.
 */
export function errorTable<T extends Record<string, ErrorSpec>>(table: T): ErrorTable<T> {
  const made: Record<string, (...about: never[]) => HttpError> = {};
  for (const [code, spec] of Object.entries(table)) {
    made[code] = (...about: never[]) => new HttpError(spec.status, typeof spec.text === 'string' ? spec.text : spec.text(...about), code);
  }
  return made as ErrorTable<T>;
}
