import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentNodeFlags, repoRoot } from '@desktop-agents/tools/harness';

// The agents' Node flags are decided once (build/node-flags.json); every start line writes them out and must match.
const root = repoRoot();
const flags = agentNodeFlags(root).join(' ');
const scripts = (file: string) => (JSON.parse(readFileSync(join(root, file), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('the Node flags of the agents, in one place', () => {
  it('are what every agent, the one-process runner and `npm run agents` start with', () => {
    const agents = readdirSync(join(root, 'agents'));
    expect(agents.length).toBeGreaterThanOrEqual(6);
    for (const agent of agents) expect(scripts(`agents/${agent}/package.json`)['start'], agent).toBe(`node ${flags} dist/src/main.bundle.mjs`);
    expect(scripts('multi/package.json')['start']).toBe(`node ${flags} dist/src/main.bundle.mjs`);
    expect(scripts('package.json')['agents']).toBe(`node ${flags} multi/dist/src/main.bundle.mjs`);
  });

  it("are never written into the images: their start script runs the packages' start scripts", () => {
    const startAgents = readFileSync(join(root, 'images', 'start-agents'), 'utf8');
    expect(startAgents).not.toMatch(/--max-|--expose|--inspect/);
    expect(startAgents).toMatch(/scripts\.start/);
  });
});
