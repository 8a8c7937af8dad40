import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isInside, openInside, withFolder, type OpenedEntry } from './paths.js';
import { fileChunks, type ReadBuffers } from './pooled-send.js';
import type { ZipEntry } from './zip-writer.js';

export interface ZipPlan {
  files: Array<{ path: string; name: string }>;
  folders: string[];
  /** Entries left out, with why: unreadable, a symlink out of the root, or not a regular file. */
  skipped: Array<{ name: string; reason: string }>;
  /** Files the transfer rules refused, with the rule (listed in REFUSED.txt). */
  refused: Array<{ name: string; rule: string }>;
}

/** Characters a Windows extractor reads as a separator, a drive or a device, or refuses: each becomes `_`. */
// eslint-disable-next-line no-control-regex -- control characters are what is matched
const NOT_PORTABLE = /[\\/:*?"<>|\u0000-\u001f\u007f]/g;
/** Names Windows keeps for devices, whatever their extension. */
const DEVICE_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * One path segment as every extractor writes it inside its target: no backslash (a separator on Windows), no drive
 * (`C:`), no `..` or `.`, no trailing dot or space (Windows drops them), no device name; `_` in their place.
 */
export function portableSegment(segment: string): string {
  let name = segment.replace(NOT_PORTABLE, '_');
  if (name === '.' || name === '..' || name === '') name = name.replace(/\./g, '_') || '_';
  name = name.replace(/[. ]+$/, (tail) => '_'.repeat(tail.length));
  if (DEVICE_NAMES.test(name)) name = `_${name}`;
  return name;
}

/** A portable name not yet used in its folder (`name (2).ext`, `name (3).ext`... after a mapping collides). */
function unusedName(used: Set<string>, name: string): string {
  let candidate = name;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) {
    const dot = name.lastIndexOf('.');
    candidate = dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
  }
  used.add(candidate.toLowerCase());
  return candidate;
}

/**
 * Lists what a zip of `folder` will hold. Symlinks are followed only to regular files inside the root (never to
 * folders: no cycles); everything left out is reported, never silently dropped. Entry names are portable
 * (portableSegment), so no extractor writes outside its target.
 */
export async function planZip(root: string, folder: string): Promise<ZipPlan> {
  const plan: ZipPlan = { files: [], folders: [], skipped: [], refused: [] };
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let names: string[];
    try {
      // listed through the folder's checked descriptor: a folder swapped for a symlink is not walked into
      names = await withFolder(root, dir, async (folder) => (await readdir(folder.at())).sort());
    } catch (err) {
      plan.skipped.push({ name: prefix || '.', reason: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
      return;
    }
    // names compared without case: two that differ only by it would overwrite each other where names do not
    const used = new Set<string>();
    for (const entry of names) {
      const path = join(dir, entry);
      const segment = unusedName(used, portableSegment(entry));
      const name = prefix ? `${prefix}/${segment}` : segment;
      try {
        const stat = await lstat(path);
        if (stat.isDirectory()) {
          plan.folders.push(name);
          await walk(path, name);
        } else if (stat.isFile()) {
          plan.files.push({ path, name });
        } else if (stat.isSymbolicLink()) {
          const target = await realpath(path);
          const targetStat = await lstat(target);
          if (!isInside(root, target)) plan.skipped.push({ name, reason: 'symlink out of the folder root' });
          else if (!targetStat.isFile()) plan.skipped.push({ name, reason: 'symlink to a folder or special file' });
          else plan.files.push({ path: target, name });
        } else plan.skipped.push({ name, reason: 'not a regular file' });
      } catch (err) {
        plan.skipped.push({ name, reason: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
      }
    }
  };
  await walk(folder, '');
  return plan;
}

/**
 * The zip's entries: its folders, its files (each opened only when its turn comes, checked on its descriptor: inside
 * the root, a regular file, else an error that ends the zip), read through the transfer's reused buffers, and the
 * SKIPPED.txt report when entries were left out.
 */
/**
 * Leaves out of the plan the files `screen` refuses (it resolves the rule that refuses one, or undefined): each is
 * listed in REFUSED.txt instead.
 */
export async function screenZip(root: string, plan: ZipPlan, screen: (opened: OpenedEntry, name: string) => Promise<string | undefined>): Promise<void> {
  const kept: ZipPlan['files'] = [];
  for (const file of plan.files) {
    let opened: OpenedEntry | undefined;
    try {
      opened = await openInside(root, file.path);
      const rule = await screen(opened, file.name);
      if (rule) plan.refused.push({ name: file.name, rule });
      else kept.push(file);
    } catch (err) {
      plan.skipped.push({ name: file.name, reason: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
    } finally {
      await opened?.handle.close();
    }
  }
  plan.files = kept;
}

/** Checks a zip's file again on the descriptor its bytes are read from (it may have changed since it was screened). */
export type ZipRecheck = (opened: OpenedEntry, name: string) => Promise<string | undefined>;

export function zipEntries(root: string, plan: ZipPlan, buffers: ReadBuffers, recheck?: ZipRecheck): ZipEntry[] {
  const entries: ZipEntry[] = [
    ...plan.folders.map((name): ZipEntry => ({ kind: 'folder', name })),
    ...plan.files.map((file): ZipEntry => ({
      kind: 'file',
      name: file.name,
      open: async () => {
        const opened = await openInside(root, file.path);
        const { handle, stat } = opened;
        if (!stat.isFile()) {
          await handle.close();
          throw new Error(`${file.name} is no longer a regular file`);
        }
        const refused = await recheck?.(opened, file.name);
        if (refused) {
          await handle.close();
          throw new Error(`${file.name} changed after it was screened and is now refused: ${refused}`);
        }
        // a growing file is read to its end as it is then (the size is counted, not declared); the descriptor is
        // closed when the entry is done or abandoned
        async function* chunks(): AsyncGenerator<Buffer> {
          try {
            yield* fileChunks(handle, buffers);
          } finally {
            await handle.close();
          }
        }
        return { data: Readable.from(chunks()), mtime: stat.mtime, mode: stat.mode };
      },
    })),
  ];
  if (plan.refused.length > 0) {
    const report = plan.refused.map((r) => `${r.name}\t${r.rule}`).join('\n');
    entries.push({ kind: 'buffer', name: 'REFUSED.txt', data: Buffer.from(`${report}\n`) });
  }
  if (plan.skipped.length > 0) {
    const report = plan.skipped.map((s) => `${s.name}\t${s.reason}`).join('\n');
    entries.push({ kind: 'buffer', name: 'SKIPPED.txt', data: Buffer.from(`${report}\n`) });
  }
  return entries;
}
