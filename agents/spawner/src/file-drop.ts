// A file the browser dropped on the desktop's picture (after uploading it): checked inside home, then offered with
// XDND to the window at that point. Asked over the bus (`file.drop`, from a browser) or by POST /spawner/drop.
import type { BusClient, Logger } from '@desktop-agents/kit';
import { FileRoot } from '@desktop-agents/files';
import { DropRefused, type DropResult, type XdndSource } from './xdnd.js';

export interface DropRequest {
  path: string;
  x: number;
  y: number;
}

export class FileDrop {
  constructor(
    private readonly home: string,
    private readonly xdnd: XdndSource,
    private readonly log: Logger,
  ) {}

  /** Drops the file (home-relative or `~/...`; confined to home after resolving links) on the window at x, y. */
  async drop(request: DropRequest): Promise<DropResult> {
    const root = await FileRoot.open(this.home);
    const opened = await root.openExisting(request.path).catch((err: Error) => {
      throw new DropRefused(`${request.path} cannot be dropped: ${err.message}`);
    });
    await opened.handle.close();
    if (!opened.stat.isFile() && !opened.stat.isDirectory()) throw new DropRefused(`${request.path} is not a file or a folder`);
    return this.xdnd.drop([opened.real], Math.round(request.x), Math.round(request.y));
  }

  /** The browsers' `file.drop` frames, each refusal answered to its sender alone. */
  acceptDrops(bus: Pick<BusClient, 'subscribe' | 'replyTo'>): void {
    bus.subscribe('file.drop', (message) => {
      const data = message.data as Partial<DropRequest> | undefined;
      const sender = message['sender'];
      const refuse = (reason: string) => {
        this.log.info({ reason }, 'file.drop refused');
        if (typeof sender === 'number') bus.replyTo(sender, { code: 'DROP_REFUSED', method: 'file.drop', message: reason });
      };
      if (!data || typeof data.path !== 'string' || !Number.isFinite(data.x) || !Number.isFinite(data.y)) {
        refuse('file.drop needs { path, x, y }');
        return;
      }
      this.drop({ path: data.path, x: Number(data.x), y: Number(data.y) }).catch((err: Error) => refuse(err.message));
    });
  }
}
