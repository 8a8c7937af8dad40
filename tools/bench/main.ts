// npm run bench: runs every suite found in the built packages (agents/*/dist/bench/*.bench.js and this package's
// suites) and prints one table: each figure beside its same-run reference, the ratio, and the target.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../harness/agent.js';
import { meetsTarget, type BenchResult, type BenchSuite } from './types.js';

function suiteFiles(root: string): string[] {
  // the kit's and the pod's suites, and one folder of suites per agent
  const suites = join(root, 'tools', 'dist', 'bench', 'suites');
  const dirs = [
    suites,
    ...(existsSync(suites)
      ? readdirSync(suites, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(suites, d.name))
      : []),
  ];
  return dirs.filter(existsSync).flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.bench.js'))
      .map((f) => join(dir, f)),
  );
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));

function describeTarget(result: BenchResult): string {
  const parts: string[] = [];
  const { ratio, value } = result.target ?? {};
  if (ratio?.max !== undefined) parts.push(`ratio <= ${ratio.max}`);
  if (ratio?.min !== undefined) parts.push(`ratio >= ${ratio.min}`);
  if (value?.max !== undefined) parts.push(`<= ${fmt(value.max)} ${result.unit}`);
  if (value?.min !== undefined) parts.push(`>= ${fmt(value.min)} ${result.unit}`);
  return parts.join(', ') || '-';
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const [n, row] of rows.entries()) {
    console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  }
}

/** A suite that runs longer than this has hung: it fails with a row saying so, and the others still run. */
const SUITE_LIMIT_MS = 45 * 60_000;
const QUICK_SUITE_LIMIT_MS = 8 * 60_000;

async function withinTime<T>(work: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs / 60_000} minutes`)), limitMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A figure as the table shows it: `median (min–max of N)` when it comes from rounds. */
function figure(value: number, unit: string, rounds?: number[]): string {
  if (!rounds || rounds.length < 2) return `${fmt(value)} ${unit}`;
  return `${fmt(value)} ${unit} (${fmt(Math.min(...rounds))}–${fmt(Math.max(...rounds))}, ${rounds.length} rounds)`;
}

// npm run bench [-- NAME] [-- --check] [-- --quick] [-- --minutes N]: NAME runs the suites whose name holds it; --check
// exits 1 when a target is missed; --quick runs every suite small and once (CI: a broken suite fails), judges no target,
// writes no report; --minutes sets how long the soak runs (60)
const args = process.argv.slice(2);
const check = args.includes('--check');
const quick = args.includes('--quick');
const minutesAt = args.indexOf('--minutes');
const minutes = minutesAt >= 0 ? Number(args[minutesAt + 1]) : undefined;
if (minutes !== undefined && !(minutes > 0)) throw new Error(`--minutes needs a number of minutes, not ${args[minutesAt + 1]}`);
const only = args.find((a, i) => !a.startsWith('--') && !(minutesAt >= 0 && i === minutesAt + 1));
const options = { quick, ...(minutes !== undefined ? { minutes } : {}) };
const rows: string[][] = [['suite', 'measure', 'value', 'reference', 'reference value', 'ratio', 'target', 'met']];
let missed = 0;
let failed = 0;
let passed = 0;
for (const file of suiteFiles(repoRoot())) {
  const suite = ((await import(pathToFileURL(file).href)) as { default: BenchSuite }).default;
  if (only && !suite.name.includes(only)) continue;
  if (suite.onlyWhenNamed && !only && !quick) {
    console.error(`${suite.name}: not run (npm run bench -- ${suite.name})`);
    continue;
  }
  console.error(`running ${suite.name}${quick ? ' (quick)' : ''}...`);
  const started = Date.now();
  let results: BenchResult[];
  try {
    results = await withinTime(suite.run(options), suite.limitMs?.(options) ?? (quick ? QUICK_SUITE_LIMIT_MS : SUITE_LIMIT_MS));
    if (results.length === 0) throw new Error('the suite measured nothing');
    const broken = results.find((r) => !Number.isFinite(r.value) || !Number.isFinite(r.reference.value));
    if (broken) throw new Error(`no figure for "${broken.measure}" (${broken.value} beside ${broken.reference.value})`);
  } catch (err) {
    // a suite that throws is a row saying so; the others still run, and the run fails
    failed += 1;
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    console.error(`${suite.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    rows.push([suite.name, 'SUITE FAILED', message, '-', '-', '-', '-', 'NO']);
    continue;
  }
  passed += 1;
  console.error(`${suite.name}: ${results.length} figures in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const r of results) {
    const met = quick ? undefined : meetsTarget(r);
    if (met === false) missed += 1;
    rows.push([
      suite.name,
      r.measure,
      figure(r.value, r.unit, r.rounds),
      r.reference.name,
      figure(r.reference.value, r.reference.unit ?? r.unit, r.reference.rounds),
      fmt(r.value / r.reference.value),
      describeTarget(r),
      met === undefined ? '-' : met ? 'yes' : 'NO',
    ]);
  }
}
/**
 * The table as Markdown with where it was measured (date, commit, cores, memory): docs/bench/latest.md after a run of
 * every suite, docs/bench/latest-<name>.md after a run of some; the README quotes its figures from there.
 */
function writeReport(root: string, table: string[][], suites: string | undefined): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
  } catch {
    // not a checkout
  }
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `# npm run bench${suites ? ` -- ${suites}` : ''}`,
    '',
    `${new Date().toISOString()}, commit ${commit}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory.`,
    'Each figure beside its reference, measured in the same run; ratio = value / reference. A figure of rounds is',
    'their median, with the lowest and highest round in brackets; its ratio is the ratio of the medians.',
    '',
    `| ${(table[0] ?? []).map(cell).join(' | ')} |`,
    `|${(table[0] ?? []).map(() => '---').join('|')}|`,
    ...table.slice(1).map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
  ];
  const dir = join(root, 'docs', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, suites ? `latest-${suites.replace(/[^\w-]+/g, '-')}.md` : 'latest.md');
  writeFileSync(file, lines.join('\n'));
  return file;
}

printTable(rows);
// a quick run's figures come from small sizes and one round: they prove the suites run, not how fast
if (!quick) console.log(`\nwritten to ${writeReport(repoRoot(), rows, only)}`);
if (missed > 0) console.log(`\n${missed} figure(s) missed their target`);
if (failed > 0) console.log(`\n${failed} suite(s) failed`);
console.log(`\nbench: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || (check && missed > 0) ? 1 : 0;
