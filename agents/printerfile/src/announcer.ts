import { relative } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { BusClient, Logger } from '@desktop-agents/kit';
import { isPrintedFile } from './purge.js';

export interface PrinterNew {
  newfile: true;
  /** ms since epoch, as a string (abcdesktop's shape). */
  date: string;
  /** Relative to the watched folder. */
  path: string;
}

/**
 * Announces each finished write of a PDF in the folder once on the bus as `printer.new`: chokidar's
 * awaitWriteFinish holds a file back until it has stopped changing; a file rewritten after it settled (the same
 * document printed again) is announced again, a mere repeat event for the same content (size and mtime) is not. The bus
 * client queues while the bus is down, so a file printed meanwhile is announced after the reconnect.
 */
export class PrintAnnouncer {
  /** The size and mtime each path had when it was last announced. */
  readonly #announced = new Map<string, string>();
  /** Announcements made since start. */
  announcedCount = 0;
  #watcher: FSWatcher | undefined;

  constructor(
    private readonly folder: string,
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly settleMs: number,
    private readonly log: Logger,
    /** Whether a printed file may be announced (the print rules); one refused is not announced. */
    private readonly screen: (path: string, rel: string) => Promise<boolean> = async () => true,
  ) {}

  async start(): Promise<void> {
    const watcher = watch(this.folder, {
      ignoreInitial: true,
      // cups-pdf writes the PDF progressively; hidden names are temp files (ours, or an editor's)
      awaitWriteFinish: { stabilityThreshold: this.settleMs, pollInterval: Math.min(100, this.settleMs / 2) },
      ignored: (path: string, stats?: { isFile(): boolean }) =>
        relative(this.folder, path)
          .split('/')
          .some((part) => part.startsWith('.')) ||
        (stats?.isFile() === true && !isPrintedFile(path)),
      // never out of the folder through a link, and not deep: cups-pdf writes one or two levels at most
      followSymlinks: false,
      depth: 4,
    });
    watcher.on('add', (path, stats) => this.#finished(path, stats));
    watcher.on('change', (path, stats) => this.#finished(path, stats));
    watcher.on('unlink', (path) => this.#announced.delete(relative(this.folder, path)));
    watcher.on('error', (err) => this.log.warn({ err }, 'watcher error'));
    this.#watcher = watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
  }

  #finished(path: string, stats: { size: number; mtimeMs: number } | undefined): void {
    const rel = relative(this.folder, path);
    const version = stats ? `${stats.size}:${stats.mtimeMs}` : '';
    if (this.#announced.get(rel) === version && version !== '') return;
    this.#announced.set(rel, version);
    void this.screen(path, rel).then(
      (allowed) => allowed && this.#announce(rel),
      (err: Error) => this.log.warn({ err: { message: err.message }, path: rel }, 'printed file not screened: not announced'),
    );
  }

  #announce(rel: string): void {
    const data: PrinterNew = { newfile: true, date: String(Date.now()), path: rel };
    this.announcedCount += 1;
    this.log.info({ path: rel }, 'printed file announced');
    this.bus.publish('printer.new', data);
  }
}
