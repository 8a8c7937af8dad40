// Upload and download of 1 GiB through the filer, beside `cp` of the same file and nginx serving it, in one run;
// with the agent's peak RSS beside its idle RSS.
import { execFile, execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { rssMiB, startAgent, startNginx } from '../../../harness/index.js';
import type { BenchResult, BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const SIZE = 1024 * 1024 * 1024;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/** curl, output discarded; fails unless the answer is 200. */
async function curl(args: string[]): Promise<void> {
  const code = await new Promise<string>((resolve, reject) =>
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  if (code !== '200') throw new Error(`curl ${args.at(-1)}: HTTP ${code}`);
}

const suite: BenchSuite = {
  name: 'filer',
  async run(): Promise<BenchResult[]> {
    const work = mkdtempSync(join(tmpdir(), 'filer-bench-'));
    const home = join(work, 'home');
    mkdirSync(home);
    const source = join(work, 'big.bin');
    execFileSync('sh', ['-c', `head -c ${SIZE} /dev/urandom > "$0"`, source]);
    const agent = await startAgent('filer', { env: { AUTH_TOKEN: TOKEN, HOME: home, LOG_LEVEL: 'warn' } });
    const nginx = await startNginx(home);
    // the issue's bound is for moving 1 GiB each way; the zips' peak is its own figure (they load a native CRC-32)
    const peaks = { moving: 0, zip: 0 };
    let phase: keyof typeof peaks = 'moving';
    const sampler = setInterval(() => (peaks[phase] = Math.max(peaks[phase], rssMiB(agent.process.pid))), 50);
    try {
      const idle = rssMiB(agent.process.pid);
      const copy = join(work, 'cp-copy.bin');
      // each figure is the median of three rounds, each transfer starting with no dirty pages of the one before it:
      // the disk here is shared and noisy, and a copy's writeback would otherwise land on the next one's time
      const rounds = { cp: [] as number[], upload: [] as number[], nginx: [] as number[], download: [] as number[], zip: [] as number[] };
      for (let round = 0; round < 3; round++) {
        execFileSync('sync');
        // the agent fsyncs an upload before renaming it into place: the reference copy is made as durable
        rounds.cp.push(await timed(async () => execFileSync('cp', [source, copy]) && execFileSync('sync', [copy])));
        rmSync(copy);
        execFileSync('sync');
        // curl is the client on both sides, so the client's own cost is the same
        rounds.upload.push(
          await timed(async () =>
            curl(['-H', `Authorization: Bearer ${TOKEN}`, '-F', 'fullPath=big.bin', '-F', 'overwrite=true', '-F', `file=@${source}`, `${agent.url}/filer`]),
          ),
        );
        rounds.nginx.push(await timed(async () => curl([`${nginx.url}/big.bin`])));
        rounds.download.push(await timed(async () => curl(['-H', `Authorization: Bearer ${TOKEN}`, `${agent.url}/filer?file=~/big.bin`])));
        // a folder holding the same file (a second link, no second copy) downloads as a zip of one stored entry
        if (round === 0) {
          mkdirSync(join(home, 'folder'));
          linkSync(join(home, 'big.bin'), join(home, 'folder', 'big.bin'));
        }
        phase = 'zip';
        rounds.zip.push(await timed(async () => curl(['-H', `Authorization: Bearer ${TOKEN}`, `${agent.url}/filer?file=~/folder`])));
        phase = 'moving';
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
      const [cp, upload, viaNginx, download, zip] = [rounds.cp, rounds.upload, rounds.nginx, rounds.download, rounds.zip].map(median) as [
        number,
        number,
        number,
        number,
        number,
      ];
      clearInterval(sampler);
      const mib = SIZE / 1048576;
      return [
        {
          measure: 'upload 1 GiB (curl -F), median of 3',
          unit: 'MiB/s',
          value: mib / upload,
          reference: { name: 'cp + sync', value: mib / cp },
          better: 'higher',
          target: { ratio: { min: 0.8 } },
        },
        {
          measure: 'download 1 GiB (curl), median of 3',
          unit: 'MiB/s',
          value: mib / download,
          reference: { name: 'nginx', value: mib / viaNginx },
          better: 'higher',
          target: { ratio: { min: 0.5 } },
        },
        {
          measure: 'folder of 1 GiB as a zip (stored entry), median of 3',
          unit: 'MiB/s',
          value: mib / zip,
          reference: { name: 'download of the file', value: mib / download },
          better: 'higher',
          target: { ratio: { min: 0.8 } },
        },
        {
          measure: 'peak RSS during the uploads and downloads',
          unit: 'MiB',
          value: peaks.moving,
          reference: { name: 'agent idle', value: idle },
          better: 'lower',
          target: { value: { max: 80 } },
        },
        {
          measure: 'peak RSS during the zips',
          unit: 'MiB',
          value: peaks.zip,
          reference: { name: 'agent idle', value: idle },
          better: 'lower',
        },
      ];
    } finally {
      clearInterval(sampler);
      await nginx.stop();
      await agent.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default suite;
