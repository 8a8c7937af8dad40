import type { FileHandle } from 'node:fs/promises';
import { SNIFF_BYTES, sniffType } from '@desktop-agents/kit';
import type { TransferDirection, TransferRules } from '@desktop-agents/kit';
import type { OpenedEntry } from './paths.js';

/** The first SNIFF_BYTES of an opened file, read at position 0 (the descriptor's own position is left where it is). */
export async function headOf(handle: FileHandle): Promise<Buffer> {
  const buffer = Buffer.alloc(SNIFF_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
  return buffer.subarray(0, bytesRead);
}

/**
 * A file about to be downloaded, checked against the download rules on what was opened: its home-relative path, its
 * size and the type sniffed from its first bytes. Resolves the type; throws TransferRefused.
 */
export async function screenDownload(rules: TransferRules, subject: string, opened: Pick<OpenedEntry, 'handle' | 'stat'>): Promise<string> {
  return screenOpened(rules, 'download', subject, opened, subject);
}

/** An opened file against a direction's rules: its size, the type of its first bytes, and its path when given. */
export async function screenOpened(
  rules: TransferRules,
  direction: TransferDirection,
  subject: string,
  opened: Pick<OpenedEntry, 'handle' | 'stat'>,
  path?: string,
): Promise<string> {
  const type = await sniffType(await headOf(opened.handle));
  rules.check(direction, subject, { ...(path !== undefined ? { path } : {}), bytes: opened.stat.size, mime: type });
  return type;
}
