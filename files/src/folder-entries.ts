import { lstat, readdir } from 'node:fs/promises';
import type { ConfinedFolder } from './paths.js';

/** Names in a folder, oldest modification first; entries that cannot be looked at are left out. */
export async function listByAge(folder: ConfinedFolder, shows: (name: string, isFolder: boolean) => boolean = () => true): Promise<string[]> {
  const names = await readdir(folder.at());
  const dated = await Promise.all(
    names.map(async (name) => {
      try {
        const s = await lstat(folder.at(name));
        if (!shows(name, s.isDirectory())) return undefined;
        return { name, mtime: s.mtimeMs };
      } catch {
        return undefined;
      }
    }),
  );
  return dated
    .filter((d): d is { name: string; mtime: number } => d !== undefined)
    .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name))
    .map((d) => d.name);
}

/** One entry of a folder as the file panel shows it. */
export interface FolderEntry {
  name: string;
  type: 'file' | 'folder' | 'link' | 'other';
  size: number;
  /** Last modification, ms since the epoch. */
  mtime: number;
}

/** A folder's entries with their type, size and date (not following links), by name; unreadable ones left out. */
export async function entriesOf(folder: ConfinedFolder, shows: (name: string, isFolder: boolean) => boolean = () => true): Promise<FolderEntry[]> {
  const names = await readdir(folder.at());
  const entries = await Promise.all(
    names.map(async (name): Promise<FolderEntry | undefined> => {
      try {
        const s = await lstat(folder.at(name));
        if (!shows(name, s.isDirectory())) return undefined;
        const type = s.isFile() ? 'file' : s.isDirectory() ? 'folder' : s.isSymbolicLink() ? 'link' : 'other';
        return { name, type, size: s.isFile() ? s.size : 0, mtime: Math.round(s.mtimeMs) };
      } catch {
        return undefined;
      }
    }),
  );
  return entries.filter((e): e is FolderEntry => e !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

export const entryReply = {
  type: 'object',
  required: ['name', 'type', 'size', 'mtime'],
  properties: { name: { type: 'string' }, type: { type: 'string' }, size: { type: 'number' }, mtime: { type: 'number' } },
} as const;
