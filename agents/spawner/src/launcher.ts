import type { BusClient, ChildProcesses, Logger } from '@desktop-agents/kit';
import { ValidationError } from '@desktop-agents/kit';

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

/**
 * Starts the handled commands as argv (never through a shell) in HOME on the desktop's display, with stdout and
 * stderr discarded so a chatty app never blocks; announces their exit as `proc.killed`.
 */
export class Launcher {
  constructor(
    private readonly children: ChildProcesses,
    private readonly commands: Map<string, string>,
    private readonly settings: { home: string; display: string; env: NodeJS.ProcessEnv },
    private readonly bus: Pick<BusClient, 'publish'>,
    private readonly log: Logger,
  ) {}

  launch(key: string, args: string[], acceptLanguage: string | undefined): Started {
    const command = this.commands.get(key);
    if (!command) throw new ValidationError([{ location: 'body', param: 'command', value: key, msg: 'Command must be a valid handled command' }]);
    const lang = langOf(acceptLanguage);
    const env = { ...this.settings.env, DISPLAY: this.settings.display, ...(lang ? { LANG: lang, LC_ALL: lang } : {}) };
    const { child, exited } = this.children.spawn(command, args, { cwd: this.settings.home, env, stdio: 'ignore', detached: false });
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
