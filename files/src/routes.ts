import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { RoutesPlugin, TransferAudit, TransferRules } from '@desktop-agents/kit';
import type { FileRoot } from './paths.js';
import type { ResumableUploads } from './resumable.js';
import { deleteRoute } from './routes/delete.js';
import { downloadRoute } from './routes/download.js';
import { listRoutes } from './routes/list.js';
import { resumableRoutes } from './routes/resumable.js';
import { uploadRoute } from './routes/upload.js';
import { defineFileMetrics, FileStats } from './stats.js';
import type { PartialUploads } from './store.js';
import type { FileSwitches } from './switches.js';

export interface FileRoutesOptions {
  root: FileRoot;
  switches: FileSwitches;
  maxUploadBytes: number;
  /** Mounted at `<first prefix>/uploads` when given (its `path` must be that). */
  resumable?: ResumableUploads;
  /** abcdesktop serves the same routes under both. */
  prefixes?: string[];
  /** Records temp files so a restart after a crash removes them. */
  partials?: PartialUploads;
  /** Prefix of the metrics these routes report (`filer` → filer_uploads_total...). */
  metricsPrefix: string;
  /** TRANSFER_POLICY's rules, the audit trail, and where uploads without a folder land (home-relative, '' = home). */
  transfers: FileTransfers;
}

export interface FileTransfers {
  rules: TransferRules;
  audit: TransferAudit;
  uploadDir: string;
}

/**
 * abcdesktop's file service routes (download, zip of a folder, list, upload, delete) plus resumable uploads,
 * confined to one root, under every prefix.
 */
export function fileRoutes(options: FileRoutesOptions): RoutesPlugin {
  return async (app: FastifyInstance) => {
    await app.register(multipart, {
      limits: { fileSize: options.maxUploadBytes, files: 1, fields: 16, fieldSize: 64 * 1024, parts: 32 },
      throwFileSizeLimit: true,
    });
    // tus PATCH bodies are streamed by the tus server itself; any other type is left unread for the upload route
    // to answer (a POST that is not multipart is the spec's 422 "No file provided", not a 415)
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const prefixes = options.prefixes ?? ['/filer', '/printerfiler'];
    const stats = new FileStats();
    for (const [i, prefix] of prefixes.entries()) {
      const context = { prefix, options, stats };
      await app.register(downloadRoute(context));
      await app.register(listRoutes(context));
      await app.register(uploadRoute(context));
      await app.register(deleteRoute(context));
      // tus at the first prefix only (its `path` is that one)
      if (i === 0 && options.resumable) await app.register(resumableRoutes(context, options.resumable));
    }
    defineFileMetrics(app, options.metricsPrefix, stats);
  };
}

/** The file service's 404 text: `Can not METHOD PATH`, PATH relative to the mount (`GET /filer/x` → `Can not GET /x`). */
export function fileNotFoundMessage(prefixes: string[]): (method: string, path: string) => string {
  return (method, path) => {
    const mount = prefixes.find((p) => path === p || path.startsWith(`${p}/`));
    return `Can not ${method} ${mount ? path.slice(mount.length) || '/' : path}`;
  };
}
