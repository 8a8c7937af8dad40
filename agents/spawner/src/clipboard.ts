import { execFile } from 'node:child_process';
import { childEnv, type ChildProcesses } from '@desktop-agents/kit';

/** Reads a selection with xclip (argv, bounded output and time). */
function readSelection(display: string, selection: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('xclip', ['-o', '-selection', selection], { env: childEnv({ DISPLAY: display }), timeout: 2000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

/**
 * Takes a selection with xclip, which owns it until another client takes it (its output is not kept, so it never
 * blocks). `-quiet` keeps it in the foreground: without it xclip forks, and the owner outlives the spawner; this way
 * it stays one of our children, killed on shutdown.
 */
function ownSelection(children: ChildProcesses, display: string, selection: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const { child } = children.spawn('xclip', ['-quiet', '-i', '-selection', selection], {
      env: childEnv({ DISPLAY: display }),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.once('error', reject);
    child.stdin?.end(text, () => resolve());
  });
}

/** The desktop's selections, through xclip children of the agent. */
export class Clipboard {
  constructor(
    private readonly children: ChildProcesses,
    private readonly display: string,
  ) {}

  /** abcdesktop's clipboardsync: PRIMARY copied to CLIPBOARD and SECONDARY. Returns the bytes copied. */
  async syncPrimary(): Promise<number> {
    const text = await readSelection(this.display, 'primary');
    await ownSelection(this.children, this.display, 'clipboard', text);
    await ownSelection(this.children, this.display, 'secondary', text);
    return Buffer.byteLength(text);
  }
}
