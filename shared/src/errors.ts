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
