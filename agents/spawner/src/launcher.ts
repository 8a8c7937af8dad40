import { ValidationError, type BusClient, type ChildProcesses, type Logger } from '@desktop-agents/kit';
import { FileRoot, PathNotFound, PathOutsideRoot } from '@desktop-agents/files';
import type { HandledCommand } from './config.js';
import { ERRORS } from './errors.js';

export interface Started {
  pid: number;
  command: string;
  args: string[];
}

/** LANG for a browser's Accept-Language ("fr-FR,fr;q=0.9" → "fr_FR.UTF-8"). */
export function langOf(acceptLanguage: string | undefined): string | undefined {
  const first = acceptLanguage?.split(',')[0]?.split(';')[0]?.trim();
  const m = first ? /^([a-z]{2,3})(?:[-_]([A-Za-z]{2}))?$/.exec(first) : null;
  if (!m) return undefined;
  return `${m[1]}${m[2] ? `_${m[2].toUpperCase()}` : ''}.UTF-8`;
}

/** A first character that makes an argument more than a word to many programs: options, `+cmd`, `@file`. */
const PROGRAM_ESCAPES = /^[-+@]/;

/**
 * Starts the handled commands as argv (never through a shell) in HOME on the desktop's display, with stdout and
 * stderr discarded so a chatty app never blocks; announces their exit as `proc.killed`.
 */
export class Launcher {
  constructor(
    private readonly children: ChildProcesses,
    private readonly commands: Map<string, HandledCommand>,
    private readonly settings: { home: string; display: string; env: NodeJS.ProcessEnv },
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly log: Logger,
  ) {}

  /**
   * The arguments a command's policy allows: none (`qterminal -e sh -c ...` must not run anything), words, or
   * existing files inside home given to the program as their real paths. Never what a program reads as more than a
   * word: an option (`-x`), a command of vi-likes and `more` (`+cmd`), a response file (`@file`); a command that needs
   * those declares its own entry.
   */
  async #allowedArgs(entry: HandledCommand, args: string[]): Promise<string[]> {
    if (args.length === 0) return [];
    if (entry.args === 'none') throw ERRORS.ARGUMENTS_REFUSED('This command takes no arguments');
    const option = args.find((arg) => PROGRAM_ESCAPES.test(arg));
    if (option !== undefined) throw ERRORS.ARGUMENTS_REFUSED(`Argument ${JSON.stringify(option)} starts with ${JSON.stringify(option[0])}: not allowed`);
    if (entry.args === 'text') return args;
    const root = await FileRoot.open(this.settings.home);
    return Promise.all(
      args.map(async (arg) => {
        try {
          return await root.existing(arg);
        } catch (err) {
          if (err instanceof PathOutsideRoot || err instanceof PathNotFound)
            throw ERRORS.ARGUMENTS_REFUSED(`Argument ${JSON.stringify(arg)} is not a file inside home`);
          throw err;
        }
      }),
    );
  }

  async launch(key: string, requestedArgs: string[], acceptLanguage: string | undefined): Promise<Started> {
    const entry = this.commands.get(key);
    if (!entry) throw new ValidationError([{ location: 'body', param: 'command', value: key, msg: 'Command must be a valid handled command' }]);
    const command = entry.program;
    const args = await this.#allowedArgs(entry, requestedArgs);
    const lang = langOf(acceptLanguage);
    const env = { ...this.settings.env, DISPLAY: this.settings.display, ...(lang ? { LANG: lang, LC_ALL: lang } : {}) };
    const { child, exited, started } = this.children.spawn(command, args, { cwd: this.settings.home, env, stdio: 'ignore', detached: false });
    try {
      await started;
    } catch (err) {
      throw ERRORS.LAUNCH_FAILED(command, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    const pid = child.pid ?? -1;
    void exited.then(({ code, signal }) => {
      this.log.info({ pid, code, signal }, 'launched process exited');
      this.bus.publish('proc.killed', { pid, code, signal });
    });
    return { pid, command, args };
  }

  async kill(pid: number): Promise<boolean> {
    return this.children.kill(pid);
  }
}
