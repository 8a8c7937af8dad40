import { errorTable, HttpError, ValidationError } from '@desktop-agents/kit';
import { NotRegularFile, PathNotFound, PathOutsideRoot } from './paths.js';
import { InsufficientStorage } from './store.js';
import { NoFilePart } from './upload.js';
import { TransferRefused } from '@desktop-agents/kit';

/** The file service's answers, with abcdesktop's texts (../shared/spec/filer.md). */
export const FILE_ERRORS = errorTable({
  SWITCHED_OFF: { status: 403, text: 'Forbidden' },
  PATH_OUTSIDE_ROOT: { status: 400, text: 'Path Server Error' },
  UPLOAD_PATH_OUTSIDE_ROOT: { status: 403, text: 'Forbidden bad path' },
  NOT_FOUND: { status: 404, text: (text: string) => text },
  NOT_A_DIRECTORY: { status: 404, text: 'not a directory' },
  NOT_REGULAR_FILE: { status: 400, text: 'Not a regular file' },
  IS_A_FOLDER: { status: 409, text: 'Is a folder: send "recursive": true to delete it' },
  TOO_LARGE: { status: 413, text: 'File too large: over the upload size limit' },
  DOES_NOT_FIT: { status: 507, text: 'Insufficient storage: the file does not fit on the disk' },
  DISK_FULL: { status: 507, text: 'Insufficient storage: the disk is full' },
  /** TRANSFER_POLICY refused it: "upload of notes.txt refused: upload.deny application/x-msdownload (...)". */
  TRANSFER_REFUSED: { status: 403, text: (text: string) => text },
});

/**
 * The kit's own file errors as statuses, in one place: a read, list or delete path outside the root is a 400, an
 * upload's a 403 (the spec's two texts); `notFound` is the route's text for a missing entry.
 */
export function fileErrorToHttp(err: unknown, operation: 'read' | 'upload', notFound = 'Not found'): unknown {
  if (err instanceof HttpError) return err;
  if (err instanceof TransferRefused) return FILE_ERRORS.TRANSFER_REFUSED(err.message);
  if (err instanceof PathOutsideRoot) return operation === 'upload' ? FILE_ERRORS.UPLOAD_PATH_OUTSIDE_ROOT() : FILE_ERRORS.PATH_OUTSIDE_ROOT();
  if (err instanceof PathNotFound) return FILE_ERRORS.NOT_FOUND(notFound);
  if (err instanceof NotRegularFile) return FILE_ERRORS.NOT_REGULAR_FILE();
  if (err instanceof InsufficientStorage) return FILE_ERRORS.DOES_NOT_FIT();
  const code = (err as NodeJS.ErrnoException).code;
  // the spec's answer to a request without its file part, multipart or not
  if (err instanceof NoFilePart || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return new ValidationError([{ location: 'request', msg: 'No file provided' }]);
  if (code === 'FST_REQ_FILE_TOO_LARGE') return FILE_ERRORS.TOO_LARGE();
  if (code === 'ENOSPC' || code === 'EDQUOT') return FILE_ERRORS.DISK_FULL();
  return err;
}
