// What the file routes share: their query and body schemas, the switched-off answer, path errors as statuses, and
// the context each route module is given.
import { FILE_ERRORS, fileErrorToHttp } from '../errors.js';
import type { FileRoutesOptions } from '../routes.js';
import type { FileStats } from '../stats.js';

/** One mount of the routes (abcdesktop serves them under /filer and /printerfiler). */
export interface RouteContext {
  prefix: string;
  options: FileRoutesOptions;
  stats: FileStats;
}

const pathField = (name: 'file' | 'directory') =>
  ({
    type: 'string',
    minLength: 1,
    messages: { required: `No ${name} provided`, type: `${name} must be a string`, minLength: `${name} must not be empty` },
  }) as const;

export const fileQuery = { type: 'object', required: ['file'], properties: { file: pathField('file') } } as const;
export const directoryQuery = { type: 'object', required: ['directory'], properties: { directory: pathField('directory') } } as const;
export const deleteBody = {
  type: 'object',
  required: ['file'],
  properties: { file: pathField('file'), recursive: { type: 'boolean', messages: { type: 'recursive must be a boolean' } } },
} as const;

export const forbidden = FILE_ERRORS.SWITCHED_OFF;

/** The kit's path errors as the spec's statuses (fileErrorToHttp) for a read, list or delete. */
export function pathErrors(notFound = 'Not found') {
  return (err: unknown): never => {
    throw fileErrorToHttp(err, 'read', notFound);
  };
}
