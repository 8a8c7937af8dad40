// Upload and download of 1 GiB through the filer, in interleaved rounds beside their references: `cp` + `sync` of the
// same file and a minimal Node upload server (the floor: 1 MiB writes and an fsync) for the upload, nginx serving the
// file for the download, the download itself for a folder's zip; with the agent's peak RSS beside its idle RSS.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { rssMiB, startAgent, startLikeAnAgent, startNginx, waitFor } from '../../../harness/index.js';
import { curl } from '../../clients.js';
import { ofRounds, type BenchResult, type BenchSuite } from '../../types.js';

const TOKEN = 'bench-token-0123456789';
const FULL = { bytes: 1024 * 1024 * 1024, rounds: 5 };
const QUICK = { bytes: 32 * 1024 * 1024, rounds: 1 };

/** Runs a transfer with no dirty pages of the one before it (the disk here is shared and noisy): its seconds. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  execFileSync('sync');
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const suite: BenchSuite = {
  name: 'filer',
  async run({ quick }): Promise<BenchResult[]> {
    const { bytes, rounds: count } = quick ? QUICK : FULL;
    const size = bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${bytes / 1024 ** 2} MiB`;
    const work = mkdtempSync(join(tmpdir(), 'filer-bench-'));
    const home = join(work, 'home');
    const floorDir = join(work, 'floor');
    mkdirSync(home);
    mkdirSync(floorDir);
    const source = join(work, 'big.bin');
    execFileSync('sh', ['-c', `head -c ${bytes} /dev/urandom > "$0"`, source]);
    const agent = await startAgent('filer', { env: { AUTH_TOKEN: TOKEN, HOME: home, LOG_LEVEL: 'warn' } });
    const floor = startLikeAnAgent('upload floor', [fileURLToPath(new URL('./upload-floor.js', import.meta.url)), floorDir]);
    const nginx = await startNginx(home);
    // the issue's bound is for moving 1 GiB each way; the zips' peak is its own figure (they load a native CRC-32)
    const peaks = { moving: 0, zip: 0 };
    let phase: keyof typeof peaks = 'moving';
    const sampler = setInterval(() => (peaks[phase] = Math.max(peaks[phase], rssMiB(agent.process.pid))), 50);
    try {
      const floorPort = await floor.aliveWhile(waitFor('the upload floor listening', async () => Number(floor.output.trim()) || undefined));
      const idle = rssMiB(agent.process.pid);
      const copy = join(work, 'cp-copy.bin');
      const rounds = {
        cp: [] as number[],
        floor: [] as number[],
        upload: [] as number[],
        nginx: [] as number[],
        download: [] as number[],
        zip: [] as number[],
      };
      // every transfer and its references once per round, so the machine's drift falls on all of them alike
      for (let round = 0; round < count; round++) {
        // the agent fsyncs an upload before renaming it into place: the reference copy is made as durable
        rounds.cp.push(await timed(async () => execFileSync('cp', [source, copy]) && execFileSync('sync', [copy])));
        rmSync(copy);
        // curl is the client on every side, so the client's own cost is the same
        rounds.floor.push(await timed(() => curl(['-T', source, `http://127.0.0.1:${floorPort}/big.bin`])));
        rmSync(join(floorDir, 'big.bin'));
        rounds.upload.push(
          await timed(() =>
            curl(['-H', `Authorization: Bearer ${TOKEN}`, '-F', 'fullPath=big.bin', '-F', 'overwrite=true', '-F', `file=@${source}`, `${agent.url}/filer`]),
          ),
        );
        rounds.nginx.push(await timed(() => curl([`${nginx.url}/big.bin`])));
        rounds.download.push(await timed(() => curl(['-H', `Authorization: Bearer ${TOKEN}`, `${agent.url}/filer?file=~/big.bin`])));
        // a folder holding the same file (a second link, no second copy) downloads as a zip of one stored entry
        if (round === 0) {
          mkdirSync(join(home, 'folder'));
          linkSync(join(home, 'big.bin'), join(home, 'folder', 'big.bin'));
        }
        phase = 'zip';
        rounds.zip.push(await timed(() => curl(['-H', `Authorization: Bearer ${TOKEN}`, `${agent.url}/filer?file=~/folder`])));
        phase = 'moving';
      }
      clearInterval(sampler);
      const rate = (seconds: number[]) => ofRounds(seconds.map((s) => bytes / 1048576 / s));
      const upload = rate(rounds.upload);
      const download = rate(rounds.download);
      const of = `median of ${count} interleaved rounds`;
      return [
        {
          measure: `upload ${size} (curl -F), ${of}`,
          unit: 'MiB/s',
          ...upload,
          reference: { name: 'minimal Node upload server (curl -T; 1 MiB writes, fsync), started as the agents are', ...rate(rounds.floor) },
          better: 'higher',
          target: { ratio: { min: 0.8 } },
        },
        {
          measure: `upload ${size} (curl -F), ${of}`,
          unit: 'MiB/s',
          ...upload,
          reference: { name: 'cp + sync', ...rate(rounds.cp) },
          better: 'higher',
        },
        {
          measure: `download ${size} (curl), ${of}`,
          unit: 'MiB/s',
          ...download,
          reference: { name: 'nginx', ...rate(rounds.nginx) },
          better: 'higher',
          target: { ratio: { min: 0.5 } },
        },
        {
          measure: `folder of ${size} as a zip (stored entry), ${of}`,
          unit: 'MiB/s',
          ...rate(rounds.zip),
          reference: { name: 'download of the file', ...download },
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
      await floor.stop();
      await agent.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

export default suite;
