import { execFile } from 'node:child_process';
import { access, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { childEnv } from '@desktop-agents/kit';

/** One application of generateDesktopFiles' list (names checked by the route's schema). */
export interface AppEntry {
  name: string;
  launch: string;
  desktopfile?: string;
  icon?: string;
  icondata?: string;
  mimetype?: string;
}

/** The MIME table, loaded on first use: an idle spawner does not hold it. */
async function mimeTable(): Promise<{ getType(name: string): string | null }> {
  return (await import('@fastify/send')).default.mime;
}

export async function mimeOf(filename: string): Promise<string> {
  return (await mimeTable()).getType(filename) ?? 'application/octet-stream';
}

/** Files whose name holds every keyword (plain text, case-insensitive), walking home breadth-first within bounds. */
export async function searchFiles(home: string, keywords: string[], max: number, budget = 20_000): Promise<Array<{ file: string; mime: string | false }>> {
  const found: Array<{ file: string; mime: string | false }> = [];
  const mime = await mimeTable();
  const queue = [home];
  let visited = 0;
  while (queue.length > 0 && found.length < max && visited < budget) {
    const dir = queue.shift() ?? home;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (++visited > budget || found.length >= max) break;
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const stat = await lstat(path).catch(() => undefined);
      if (!stat) continue;
      if (stat.isDirectory()) queue.push(path);
      else if (stat.isFile() && keywords.every((k) => name.toLowerCase().includes(k))) found.push({ file: path, mime: mime.getType(name) ?? false });
    }
  }
  return found;
}

function desktopEntry(app: AppEntry, exec: string, iconPath: string | undefined): string {
  const lines = ['[Desktop Entry]', 'Type=Application', `Name=${app.name}`, `Exec=${exec} %F`];
  if (iconPath) lines.push(`Icon=${iconPath}`);
  if (app.mimetype) lines.push(`MimeType=${app.mimetype}`);
  return `${lines.join('\n')}\n`;
}

/** The Exec line of the first .desktop file in folder that declares mime, without its %-codes. */
export async function appFor(folder: string, mime: string): Promise<string[] | undefined> {
  for (const name of (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.desktop')).sort()) {
    const text = await readFile(join(folder, name), 'utf8').catch(() => '');
    const mimes =
      /^MimeType=(.*)$/m
        .exec(text)?.[1]
        ?.split(';')
        .map((m) => m.trim()) ?? [];
    const exec = /^Exec=(.*)$/m.exec(text)?.[1];
    if (exec && mimes.includes(mime)) return exec.split(/\s+/).filter((w) => w && !/^%[a-zA-Z]$/.test(w));
  }
  return undefined;
}

/** Where a user's desktop applications live: .desktop files, icons, and launchers linked to ocrun. */
export class Applications {
  readonly applications: string;
  readonly #icons: string;
  readonly #bin: string;

  constructor(
    home: string,
    private readonly ocrun: string,
  ) {
    this.applications = join(home, '.local', 'share', 'applications');
    this.#icons = join(home, '.local', 'share', 'icons');
    this.#bin = join(home, '.local', 'bin');
  }

  /** The command line of the application declared for a file's type: [program, ...args, filename], if any. */
  async forFile(filename: string): Promise<{ command: string; args: string[] } | undefined> {
    const words = await appFor(this.applications, await mimeOf(filename));
    if (!words || words.length === 0 || words[0] === undefined) return undefined;
    return { command: words[0], args: [...words.slice(1), filename] };
  }

  /** Writes a .desktop file (and its icon, and its ocrun launcher) for each entry, then refreshes the mime cache. */
  async generate(list: AppEntry[]): Promise<void> {
    await mkdir(this.applications, { recursive: true });
    const hasOcrun = await access(this.ocrun).then(
      () => true,
      () => false,
    );
    for (const entry of list) {
      let iconPath: string | undefined;
      if (entry.icon && entry.icondata) {
        await mkdir(this.#icons, { recursive: true });
        iconPath = join(this.#icons, entry.icon);
        await writeFile(iconPath, Buffer.from(entry.icondata, 'base64'));
      }
      let exec = entry.launch;
      if (hasOcrun) {
        await mkdir(this.#bin, { recursive: true });
        const link = join(this.#bin, entry.launch);
        await rm(link, { force: true });
        await symlink(this.ocrun, link);
        exec = link;
      }
      const file = entry.desktopfile ?? `${entry.launch}.desktop`;
      await writeFile(join(this.applications, file.endsWith('.desktop') ? file : `${file}.desktop`), desktopEntry(entry, exec, iconPath));
    }
    // refresh the mime cache when the tool is there; its absence is not an error
    await new Promise<void>((resolve) => execFile('update-desktop-database', [this.applications], { timeout: 10_000, env: childEnv() }, () => resolve()));
  }
}
