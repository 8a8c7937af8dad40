import { unlink } from 'node:fs/promises';
import { TransferRefused, type TransferAudit, type TransferRules } from '@desktop-agents/kit';
import { openInside, screenOpened } from '@desktop-agents/files';

/**
 * The print rules of TRANSFER_POLICY on a printed file, decided on its content (type from its first bytes, size):
 * an allowed one is audited and announced; a refused one is audited, removed and never announced.
 */
export function printScreen(folder: string, rules: TransferRules, audit: TransferAudit): (path: string, rel: string) => Promise<boolean> {
  return async (path, rel) => {
    const opened = await openInside(folder, path);
    try {
      await audit.around(
        { direction: 'print', subject: rel, bytes: opened.stat.size },
        () => screenOpened(rules, 'print', rel, opened),
        (type) => ({ type }),
      );
      return true;
    } catch (err) {
      if (!(err instanceof TransferRefused)) throw err;
      await unlink(path).catch(() => undefined);
      return false;
    } finally {
      await opened.handle.close();
    }
  };
}
