import type { FastifyInstance } from 'fastify';

/** What the routes have moved since start, for /metrics. */
export class FileStats {
  bytesReceived = 0;
  downloads = 0;
  /** Transfers under way now, by kind. */
  readonly inFlight = { upload: 0, download: 0 };
  readonly uploads = new Map<string, number>();

  upload(result: string, bytes = 0): void {
    this.uploads.set(result, (this.uploads.get(result) ?? 0) + 1);
    this.bytesReceived += bytes;
  }
}

/** An upload's outcome as a metric label, from what the route answered. */
export function resultOf(err: unknown): string {
  const status = (err as { statusCode?: number }).statusCode;
  return status === 413 ? 'too_large' : status === 507 ? 'no_space' : status === 403 ? 'refused' : status === 422 ? 'invalid' : 'failed';
}

/** The routes' counters on /metrics, named after the agent (`filer` → filer_uploads_total...). */
export function defineFileMetrics(app: FastifyInstance, name: string, stats: FileStats): void {
  app.metrics.define({
    name: `${name}_bytes_received_total`,
    help: 'bytes of completed multipart uploads',
    type: 'counter',
    read: () => stats.bytesReceived,
  });
  app.metrics.define({
    name: `${name}_transfers_in_flight`,
    help: 'uploads (multipart, and resumable parts) and downloads under way',
    type: 'gauge',
    labelNames: ['kind'],
    read: () => Object.entries(stats.inFlight).map(([kind, value]) => ({ labels: { kind }, value })),
  });
  app.metrics.define({ name: `${name}_downloads_total`, help: 'downloads (files and folder zips) started', type: 'counter', read: () => stats.downloads });
  app.metrics.define({
    name: `${name}_uploads_total`,
    help: 'multipart uploads by result',
    type: 'counter',
    labelNames: ['result'],
    read: () => [...stats.uploads].map(([result, value]) => ({ labels: { result }, value })),
  });
}
