import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A Debian package the test needs is not installed: the message says which one to install. */
export class MissingComponentError extends Error {
  override name = 'MissingComponentError';
}

export function findCommand(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).concat('/usr/sbin', '/sbin')) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The command's full path, or a MissingComponentError naming the Debian package that provides it. */
export function requireCommand(command: string, debianPackage: string): string {
  const found = findCommand(command);
  if (!found) {
    throw new MissingComponentError(`${command} not found: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`);
  }
  return found;
}
