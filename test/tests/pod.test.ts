import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@desktop-agents/tools/harness';

describe('local pod runner (npm start)', () => {
  it('starts X, PulseAudio, cupsd and every agent, prints their table, and stops them all', async () => {
    const root = repoRoot();
    const child = spawn(process.execPath, [join(root, 'tools', 'dist', 'pod', 'main.js'), '--once'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toMatch(/X display\s+:\d+/);
    expect(out).toMatch(/PulseAudio\s+unix:\/tmp\/da-pulse-/);
    expect(out).toMatch(/cupsd\s+127\.0\.0\.1:\d+ \(queue PDF/);
    expect(out).toMatch(/agent\s+port\s+url\s+ready/);
    expect(out).not.toMatch(/not started|failed|not ready/);
    expect(code).toBe(0);
  });
});
