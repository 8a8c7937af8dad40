export * from './paths.js';
export * from './switches.js';
export * from './store.js';
export * from './zip.js';
export { sendFile, sendFolderZip } from './download.js';
export { NoFilePart, receiveUpload, type UploadInput, type UploadResult } from './upload.js';
export { createResumableUploads, ensurePrivateFolder, type ResumableOptions, type ResumableUploads } from './resumable.js';
export { fileNotFoundMessage, fileRoutes, type FileRoutesOptions } from './routes.js';
export { FILE_ERRORS, fileErrorToHttp } from './errors.js';
