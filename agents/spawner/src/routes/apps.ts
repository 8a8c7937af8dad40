import { execFile } from 'node:child_process';
import { access, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import send from '@fastify/send';
import type { FastifyPluginAsync } from 'fastify';
import { ValidationError } from '@desktop-agents/kit';
import { ERRORS } from '../errors.js';

const NAME = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$';
const LINE = '^[^\\n\\r\\u0000]{0,1024}$';

const searchQuery = {
  type: 'object',
  required: ['keywords'],
  properties: {
    keywords: { type: 'string', pattern: '^[^/\\u0000-\\u001f]{1,128}$', messages: { required: 'No keywords provided', default: 'Bad keywords pattern' } },
    maxfile: { type: 'integer', minimum: 1, maximum: 1000, default: 64, messages: { default: 'Maxfile must be a strictly positive number' } },
  },
} as const;

const filenameQuery = (patternMsg: string) =>
  ({
    type: 'object',
    required: ['filename'],
    properties: { filename: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\u0000\\n\\r]+$', messages: { required: 'No filename provided', type: 'filename must be a string', default: patternMsg } } },
  }) as const;

const desktopList = {
  type: 'object',
  required: ['list'],
  properties: {
    list: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      messages: { required: 'No list provided', missingToo: 'List must be a non-empty array', default: 'List must be a non-empty array' },
      items: {
        type: 'object',
        required: ['name', 'launch'],
        properties: {
          name: { type: 'string', pattern: LINE, messages: { default: 'Bad application name' } },
          launch: { type: 'string', pattern: NAME, messages: { default: 'Bad launch name' } },
          desktopfile: { type: 'string', pattern: NAME, messages: { default: 'Bad desktopfile name' } },
          icon: { type: 'string', pattern: NAME, messages: { default: 'Bad icon name' } },
          icondata: { type: 'string', maxLength: 2 * 1024 * 1024, pattern: '^[A-Za-z0-9+/=\\s]*$', messages: { default: 'Bad icondata' } },
          mimetype: { type: 'string', pattern: LINE, messages: { default: 'Bad mimetype' } },
          path: { type: 'string', pattern: LINE },
          executablefilename: { type: 'string', pattern: LINE },
        },
      },
    },
  },
} as const;

interface AppEntry {
  name: string;
  launch: string;
  desktopfile?: string;
  icon?: string;
  icondata?: string;
  mimetype?: string;
}

export function mimeOf(filename: string): string {
  return send.mime.getType(filename) ?? 'application/octet-stream';
}

/** Files whose name holds every keyword (plain text, case-insensitive), walking home breadth-first within bounds. */
async function search(home: string, keywords: string[], max: number, budget = 20_000): Promise<Array<{ file: string; mime: string | false }>> {
  const found: Array<{ file: string; mime: string | false }> = [];
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
      else if (stat.isFile() && keywords.every((k) => name.toLowerCase().includes(k))) found.push({ file: path, mime: send.mime.getType(name) ?? false });
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
async function appFor(folder: string, mime: string): Promise<string[] | undefined> {
  for (const name of (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.desktop')).sort()) {
    const text = await readFile(join(folder, name), 'utf8').catch(() => '');
    const mimes = /^MimeType=(.*)$/m.exec(text)?.[1]?.split(';').map((m) => m.trim()) ?? [];
    const exec = /^Exec=(.*)$/m.exec(text)?.[1];
    if (exec && mimes.includes(mime)) return exec.split(/\s+/).filter((w) => w && !/^%[a-zA-Z]$/.test(w));
  }
  return undefined;
}

export function appRoutes(settings: { home: string; ocrun: string }): FastifyPluginAsync {
  const applications = join(settings.home, '.local', 'share', 'applications');
  const icons = join(settings.home, '.local', 'share', 'icons');
  const bin = join(settings.home, '.local', 'bin');
  return async (app) => {
    app.get<{ Querystring: { keywords: string; maxfile: number } }>('/filesearch', { schema: { querystring: searchQuery } }, async (request) => {
      const keywords = request.query.keywords.toLowerCase().split(/\s+/).filter(Boolean);
      if (keywords.length === 0) throw new ValidationError([{ location: 'query', param: 'keywords', value: request.query.keywords, msg: 'Bad keywords pattern' }]);
      return { code: 200, data: await search(settings.home, keywords, request.query.maxfile) };
    });

    app.get<{ Querystring: { filename: string } }>('/getmimeforfile', { schema: { querystring: filenameQuery('Bad filename pattern') } }, async (request, reply) =>
      reply.type('text/plain; charset=utf-8').send(mimeOf(request.query.filename)),
    );

    app.get<{ Querystring: { filename: string } }>('/getappforfile', { schema: { querystring: filenameQuery('filename must be a string') } }, async (request) => {
      const words = await appFor(applications, mimeOf(request.query.filename));
      if (!words || words.length === 0) throw ERRORS.NOT_FOUND();
      return { code: 200, data: { command: words[0], args: [...words.slice(1), request.query.filename] } };
    });

    app.post<{ Body: { list: AppEntry[] } }>('/generateDesktopFiles', { schema: { body: desktopList } }, async (request) => {
      await mkdir(applications, { recursive: true });
      const hasOcrun = await access(settings.ocrun).then(() => true, () => false);
      for (const entry of request.body.list) {
        let iconPath: string | undefined;
        if (entry.icon && entry.icondata) {
          await mkdir(icons, { recursive: true });
          iconPath = join(icons, entry.icon);
          await writeFile(iconPath, Buffer.from(entry.icondata, 'base64'));
        }
        let exec = entry.launch;
        if (hasOcrun) {
          await mkdir(bin, { recursive: true });
          const link = join(bin, entry.launch);
          await rm(link, { force: true });
          await symlink(settings.ocrun, link);
          exec = link;
        }
        const file = entry.desktopfile ?? `${entry.launch}.desktop`;
        await writeFile(join(applications, file.endsWith('.desktop') ? file : `${file}.desktop`), desktopEntry(entry, exec, iconPath));
      }
      // refresh the mime cache when the tool is there; its absence is not an error
      await new Promise<void>((resolve) => execFile('update-desktop-database', [applications], { timeout: 10_000 }, () => resolve()));
      return { code: 200, data: 'OK' };
    });
  };
}
