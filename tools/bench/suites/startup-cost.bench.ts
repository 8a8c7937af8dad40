// What each module costs a process at start: RSS and time to import it in a fresh Node process, beside an empty
// Node process (RSS) and fastify's own import (time) measured the same way in this run: where an idle agent's memory
// and start-up time go.
import { join } from 'node:path';
import { repoRoot, startLikeAnAgent } from '../../harness/index.js';
import { median, type BenchResult, type BenchSuite } from '../types.js';

interface Cost {
  rssMiB: number;
  ms: number;
}

/**
 * Runs the imports in a fresh process started as the agents are (resolved from `cwd`) and reports its RSS and their
 * time; no collection is forced, in it or in the empty process it is compared with.
 */
async function importCost(specifiers: string[], cwd: string): Promise<Cost> {
  const imports = specifiers.map((s) => `await import(${JSON.stringify(s)});`).join(' ');
  const script = `const t = performance.now(); ${imports} const ms = performance.now() - t; console.log(JSON.stringify({ rssMiB: process.memoryUsage().rss / 1048576, ms }));`;
  const proc = startLikeAnAgent('import', ['--input-type=module', '-e', script], { cwd });
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`importing ${specifiers.join(', ')} failed:\n${proc.output}`);
  return JSON.parse(proc.output.trim().split('\n').pop() ?? '{}') as Cost;
}

/** The median of `count` fresh processes. */
async function medianCost(specifiers: string[], cwd: string, count: number): Promise<Cost> {
  const runs: Cost[] = [];
  for (let n = 0; n < count; n++) runs.push(await importCost(specifiers, cwd));
  return { rssMiB: median(runs.map((r) => r.rssMiB)), ms: median(runs.map((r) => r.ms)) };
}

const AGENTS = ['broadcast', 'spawner', 'webshell', 'filer', 'printerfile', 'sound'];

const suite: BenchSuite = {
  name: 'startup cost',
  async run({ quick }): Promise<BenchResult[]> {
    const count = quick ? 1 : 3;
    const root = repoRoot();
    const shared = join(root, 'shared');
    const multi = join(root, 'multi');
    const modules: Array<[string, string[], string]> = [
      ['fastify', ['fastify'], shared],
      ['ws', ['ws'], shared],
      ['pino', ['pino'], shared],
      ['ajv', ['ajv'], shared],
      ['the kit', ['@desktop-agents/kit'], multi],
      ...AGENTS.map((name): [string, string[], string] => [`${name} (kit + agent)`, [`@desktop-agents/${name}/definition`], multi]),
      ['all six agents', AGENTS.map((name) => `@desktop-agents/${name}/definition`), multi],
    ];
    const empty = await medianCost([], shared, count);
    const fastify = await medianCost(['fastify'], shared, count);
    const results: BenchResult[] = [];
    for (const [label, specifiers, cwd] of modules) {
      const cost = label === 'fastify' ? fastify : await medianCost(specifiers, cwd, count);
      results.push(
        { measure: `import ${label}: RSS`, unit: 'MiB', value: cost.rssMiB, reference: { name: 'empty node', value: empty.rssMiB }, better: 'lower' },
        // time beside fastify's own import: the floor of any HTTP agent in Node
        { measure: `import ${label}: time`, unit: 'ms', value: cost.ms, reference: { name: 'import fastify', value: fastify.ms }, better: 'lower' },
      );
    }
    return results;
  },
};

export default suite;
