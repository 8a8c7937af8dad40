import { unlink } from 'node:fs/promises';
import { TransferRefused, type TransferAudit, type TransferRules } from '@desktop-agents/kit';
import { headOf, openInside } from '@desktop-agents/files';
import { sniffType } from '@desktop-agents/kit';

/**
 * The print rules of TRANSFER_POLICY on a printed file, decided on its content (type from its first bytes, size):
 * an allowed one is audited and announced; a refused one is audited, removed and never announced.
 */
export function printScreen(folder: string, rules: TransferRules, audit: TransferAudit): (path: string, rel: string) => Promise<boolean> {
  return async (path, rel) => {
    const { handle, stat } = await openInside(folder, path);
    let type: string;
    try {
      type = await sniffType(await headOf(handle));
    } finally {
      await handle.close();
    }
    try {
      rules.check('print', rel, { mime: type, bytes: stat.size });
    } catch (err) {
      if (!(err instanceof TransferRefused)) throw err;
      audit.refused({ direction: 'print', subject: rel, ...err.facts }, err);
      await unlink(path).catch(() => undefined);
      return false;
    }
    audit.allowed({ direction: 'print', subject: rel, type, bytes: stat.size });
    return true;
  };
}
