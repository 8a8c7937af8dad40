import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCommand } from '../harness/index.js';
import { repoRoot } from '../harness/index.js';

/** Where images/build-images keeps its podman store and settings (IMAGES_WORKDIR, as the script reads it). */
export function imagesWorkdir(env: NodeJS.ProcessEnv = process.env): string {
  return env['IMAGES_WORKDIR'] ?? '/var/tmp/desktop-agents-images';
}

/** Why podman cannot run pods here, or undefined when it can (podman, runc, catatonit, debootstrap, root). */
export function podmanMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (rootful podman needs root)';
  for (const [command, pkg] of [
    ['podman', 'podman'],
    ['runc', 'runc'],
    ['catatonit', 'catatonit'],
    ['debootstrap', 'debootstrap'],
  ] as const) {
    if (!findCommand(command)) return `${command} missing (Debian package ${pkg})`;
  }
  return undefined;
}

export interface Podman {
  /** Runs podman with the project's store and settings; resolves stdout, rejects with stderr in the message. */
  (args: string[], options?: { timeoutMs?: number; input?: string | Buffer }): Promise<string>;
  workdir: string;
}

/**
 * podman on the project's own store (overlay under IMAGES_WORKDIR) with the settings this machine needs: runc (crun
 * rejects its cgroups) and lowered ulimits (the default nofile limit cannot be set in a container here).
 */
export function projectPodman(workdir = imagesWorkdir()): Podman {
  mkdirSync(workdir, { recursive: true });
  const conf = join(workdir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const podman = (args: string[], options: { timeoutMs?: number; input?: string | Buffer } = {}) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        'podman',
        ['--storage-driver', 'overlay', '--root', join(workdir, 'storage'), ...args],
        { env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`podman ${args.slice(0, 3).join(' ')}: ${stderr.trim() || err.message}`));
          else resolve(stdout);
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  return Object.assign(podman, { workdir });
}

/** images/build-images for the images named (cached layers: only what changed is rebuilt). */
export async function buildImages(names: string[], workdir = imagesWorkdir()): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(
      'bash',
      [join(repoRoot(), 'images', 'build-images'), ...names],
      { env: { ...process.env, IMAGES_WORKDIR: workdir }, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`images/build-images ${names.join(' ')} failed:\n${stdout.slice(-4000)}${stderr.slice(-4000)}`)) : resolve(),
    );
  });
}

/** Whether every named image (localhost/desktop-agents/<name>) is in the project's store. */
export async function imagesPresent(names: string[], podman: Podman = projectPodman()): Promise<boolean> {
  for (const name of names) {
    try {
      await podman(['image', 'exists', `localhost/desktop-agents/${name}`]);
    } catch {
      return false;
    }
  }
  return true;
}
