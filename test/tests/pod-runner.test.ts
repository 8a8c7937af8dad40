import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { podmanMissing, projectPodman } from '@desktop-agents/tools/container-pod';
import { repoRoot, waitFor } from '@desktop-agents/tools/harness';

const missing = podmanMissing();

/** Whether something accepts a TCP connection at host:port within a second. */
const listening = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true)).once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });

describe.skipIf(missing !== undefined)(`npm run pod${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('keeps the pod until Ctrl-C, then removes it and leaves no port open', async () => {
    const root = repoRoot();
    const name = `desktop-runner-${randomBytes(3).toString('hex')}`;
    const runner = spawn(process.execPath, [join(root, 'tools', 'dist', 'container-pod', 'main.js'), '--name', name], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    runner.stdout.on('data', (c: Buffer) => (out += c.toString()));
    runner.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => runner.once('exit', resolve));
    try {
      await waitFor('the pod running', async () => out.includes('Ctrl-C removes it') || runner.exitCode !== null, 600_000, 500);
      expect(runner.exitCode, out).toBeNull();
      const ip = /pod \S+ at (\d+\.\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '';
      expect(ip, out).not.toBe('');
      await sleep(10_000);
      expect(runner.exitCode, `the runner left after its table:\n${out}`).toBeNull();
      expect((await fetch(`http://${ip}:29784/readyz`)).status).toBe(200);
      runner.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/removing the pod/);
      const pods = await projectPodman()(['pod', 'ps', '--filter', `name=${name}`, '--format', '{{.Name}}']);
      expect(pods.trim()).toBe('');
      for (const port of [29781, 29782, 29783, 29784, 29786, 4714]) expect(await listening(ip, port), `port ${port}`).toBe(false);
    } finally {
      if (runner.exitCode === null) runner.kill('SIGTERM');
      await projectPodman()(['pod', 'rm', '-f', name]).catch(() => undefined);
    }
  }, 900_000);
});
