// The soak's report: docs/bench/soak-<date>.md, its verdict rows, each timing window by window, each container's
// figures, and one small plot per container (memory and open fds over time, SVG beside the report).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { meetsTarget, type BenchResult } from '../types.js';
import type { SoakRecord } from './record.js';
import { pointsOf, type ContainerVerdict, type SeriesVerdict } from './verdict.js';

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Two lines over time in one small SVG: memory (MiB, left scale) and open fds (right scale). */
export function plotSvg(title: string, memory: Array<[number, number]>, fds: Array<[number, number]>, warmUpS: number): string {
  const width = 480;
  const height = 160;
  const pad = { left: 44, right: 40, top: 20, bottom: 24 };
  const endS = Math.max(1, ...memory.map(([t]) => t), ...fds.map(([t]) => t));
  const top = (values: number[]) => Math.max(1, ...values) * 1.1;
  const memTop = top(memory.map(([, v]) => v));
  const fdTop = top(fds.map(([, v]) => v));
  const x = (t: number) => pad.left + (t / endS) * (width - pad.left - pad.right);
  const y = (v: number, max: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const line = (points: Array<[number, number]>, max: number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map(([t, v]) => `${x(t).toFixed(1)},${y(v, max).toFixed(1)}`).join(' ')}"/>`;
  const text = (px: number, py: number, s: string, anchor = 'start', colour = '#333') =>
    `<text x="${px}" y="${py}" font-size="10" font-family="sans-serif" fill="${colour}" text-anchor="${anchor}">${s}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(pad.left, 12, `${title}: memory (MiB, blue) and open fds (orange) over ${(endS / 60).toFixed(0)} min`),
    `<line x1="${x(warmUpS)}" y1="${pad.top}" x2="${x(warmUpS)}" y2="${height - pad.bottom}" stroke="#bbb" stroke-dasharray="3,3"/>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#999"/>`,
    line(memory, memTop, '#1f5fbf'),
    line(fds, fdTop, '#e07b00'),
    text(pad.left - 4, y(memTop, memTop) + 4, fmt(memTop, 0), 'end', '#1f5fbf'),
    text(pad.left - 4, height - pad.bottom, '0', 'end', '#1f5fbf'),
    text(width - pad.right + 4, y(fdTop, fdTop) + 4, fmt(fdTop, 0), 'start', '#e07b00'),
    text(width - pad.right + 4, height - pad.bottom, '0', 'start', '#e07b00'),
    text(x(warmUpS) + 3, height - pad.bottom - 4, 'warm-up end', 'start', '#999'),
    text(width - pad.right, height - 6, `${(endS / 60).toFixed(0)} min`, 'end'),
    '</svg>',
  ].join('\n');
}

export interface SoakReport {
  /** The commit the pod's images were built from (read when the soak started, not when it ended). */
  commit: string;
  minutes: number;
  warmUpS: number;
  windowS: number;
  results: BenchResult[];
  containers: ContainerVerdict[];
  series: SeriesVerdict[];
  record: SoakRecord;
}

/** Writes the report and its plots under docs/bench; returns the report's path. */
/** The checkout's commit (short), or `unknown` outside one; `+changes` when the work tree differs from it. */
export function currentCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root }).toString().trim() !== '';
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return 'unknown';
  }
}

export function writeSoakReport(root: string, report: SoakReport): string {
  const date = new Date().toISOString().slice(0, 10);
  const dir = join(root, 'docs', 'bench');
  const plots = join(dir, `soak-${date}`);
  mkdirSync(plots, { recursive: true });
  const { record, commit } = report;
  const met = report.results.filter((r) => meetsTarget(r) === false).length;
  const lines = [
    `# Soak, ${report.minutes} minutes (npm run bench -- soak)`,
    '',
    `${new Date().toISOString()}, commit ${commit}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory. The container`,
    `pod (compose/desktop-pod.yaml, one container per agent) under a user's day of load (tools/bench/soak/load.ts);`,
    `each container sampled every 10 s. Slopes by least squares after a ${report.warmUpS / 60}-minute warm-up; fds and`,
    `processes by the lowest count of each ${report.windowS / 60}-minute window (what they rest at between bursts); p99s`,
    'window by window, the last whole window beside the first one after the warm-up.',
    '',
    `**${met === 0 ? 'Every target met' : `${met} target(s) missed`}**; ${record.errors.length} errors in ${record.operationCount} operations; ${record.transfersVerified} files up and down byte for byte, ${record.transfersCorrupted} not.`,
    '',
    '| measure | value | reference | target | met |',
    '|---|---|---|---|---|',
    ...report.results.map((r) => {
      const target = [
        r.target?.value?.max !== undefined ? `<= ${r.target.value.max} ${r.unit}` : '',
        r.target?.ratio?.max !== undefined ? `ratio <= ${r.target.ratio.max}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const verdict = meetsTarget(r);
      return `| ${r.measure} | ${fmt(r.value, 2)} ${r.unit} | ${r.reference.name}: ${fmt(r.reference.value, 2)} ${r.reference.unit ?? r.unit} | ${target || '-'} | ${verdict === undefined ? '-' : verdict ? 'yes' : 'NO'} |`;
    }),
    '',
    '## Containers',
    '',
    '| container | memory after warm-up (MiB) | at the end | slope (MiB/h) | resting slope (MiB/h) | fds after warm-up | fds slope (/h) | processes | processes slope (/h) | threads slope (/h) | CPU (share of a core) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.containers.map(
      (c) =>
        `| ${c.container} | ${fmt(c.memoryAfterWarmUp)} | ${fmt(c.memoryEnd)} | ${fmt(c.memorySlope, 2)} | ${fmt(c.restingMemorySlope, 2)} | ${fmt(c.fdsAfterWarmUp, 0)} | ${fmt(c.fdsSlope, 2)} | ${fmt(c.processesAfterWarmUp, 0)} | ${fmt(c.processesSlope, 2)} | ${fmt(c.threadsSlope, 2)} | ${fmt(c.cpuMean, 3)} |`,
    ),
    '',
    '## Timings window by window (p99, ms; count)',
    '',
    `| window (min) | ${report.series.map((s) => s.label).join(' | ')} |`,
    `|---|${report.series.map(() => '---').join('|')}|`,
    ...[...new Set(report.series.flatMap((s) => s.windows.map((w) => w.window)))]
      .sort((a, b) => a - b)
      .map((w) => {
        const cells = report.series.map((s) => {
          const found = s.windows.find((x) => x.window === w);
          return found ? `${fmt(found.p99)} (${found.count})` : '-';
        });
        return `| ${fmt((w * report.windowS) / 60, 1)}–${fmt(((w + 1) * report.windowS) / 60, 1)} | ${cells.join(' | ')} |`;
      }),
    '',
    '## Operations',
    '',
    ...[...record.operations.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `- ${kind}: ${n}`),
    '',
    '## Errors',
    '',
    ...(record.errors.length === 0 ? ['None.'] : record.errors.slice(0, 50).map((e) => `- ${fmt(e.atS / 60)} min, ${e.kind}: ${e.message}`)),
    '',
    '## Memory and open fds over time',
    '',
  ];
  for (const c of report.containers) {
    const svg = plotSvg(c.container, pointsOf(record, c.container, 'memoryMiB'), pointsOf(record, c.container, 'fds'), report.warmUpS);
    writeFileSync(join(plots, `${c.container}.svg`), svg);
    lines.push(`![${c.container}](soak-${date}/${c.container}.svg)`, '');
  }
  const file = join(dir, `soak-${date}.md`);
  writeFileSync(file, lines.join('\n'));
  return file;
}
