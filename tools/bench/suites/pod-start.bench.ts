// Time to a usable desktop: the container pod with its images present, from `podman kube play` to every readiness
// probe passing, then to a terminal's first output and the first audio frame; where the time goes (kube play's
// create and start, each container to its probe); beside the desktop's own graphical container played alone the
// same way in the same rounds (what podman and the desktop cost without our agents). Interleaved rounds, medians.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import WebSocket from 'ws';
import { buildImages, imagesPresent, podmanMissing, readManifest, startContainerPod, type ContainerPod, type PodLayout } from '../../container-pod/index.js';
import { makeRunDir, repoRoot } from '../../harness/index.js';
import { ofRounds, type BenchResult, type BenchSuite } from '../types.js';

/** ms from `since` to a terminal's first output (create, attach, the shell's prompt). */
async function firstTerminalOutput(pod: ContainerPod, since: number): Promise<number> {
  const created = await fetch(`${pod.url('webshell')}/terminals?cols=80&rows=24`, { method: 'POST', headers: { ABCAuthorization: `Bearer ${pod.token}` } });
  if (created.status !== 200) throw new Error(`POST /terminals: ${created.status} ${await created.text()}`);
  const pid = (await created.json()) as number;
  const socket = new WebSocket(`${pod.url('webshell').replace('http', 'ws')}/terminals/${pid}?${pod.token}`);
  try {
    return await new Promise<number>((resolve, reject) => {
      socket.once('message', () => resolve(performance.now() - since));
      socket.once('close', (code, reason) => reject(new Error(`terminal closed ${code} ${String(reason)}`)));
      setTimeout(() => reject(new Error('no terminal output in 20 s')), 20_000).unref();
    });
  } finally {
    socket.close();
  }
}

/** ms from `since` to the first audio frame of the sound agent's listener. */
async function firstAudioFrame(pod: ContainerPod, since: number): Promise<number> {
  const socket = new WebSocket(`${pod.url('sound').replace('http', 'ws')}/listen/source/desktop.monitor?jwt_token=${pod.token}`);
  try {
    return await new Promise<number>((resolve, reject) => {
      socket.on('message', (_data, binary) => binary && resolve(performance.now() - since));
      socket.once('close', (code, reason) => reject(new Error(`listener closed ${code} ${String(reason)}`)));
      setTimeout(() => reject(new Error('no audio frame in 20 s')), 20_000).unref();
    });
  } finally {
    socket.close();
  }
}

interface Round {
  playedMs: number;
  readyMs: number;
  terminalMs: number;
  audioMs: number;
  containers: Map<string, number>;
}

async function fullPod(layout: PodLayout): Promise<Round> {
  const pod = await startContainerPod({ layout, name: 'bench-pod-start', build: false, readyTimeoutMs: 120_000 });
  try {
    // from the moment of `kube play`, as the probes' times are
    const since = performance.now() - pod.startup.readyMs;
    const terminalMs = await firstTerminalOutput(pod, since);
    const audioMs = await firstAudioFrame(pod, since);
    return { playedMs: pod.startup.playedMs, readyMs: pod.startup.readyMs, terminalMs, audioMs, containers: pod.startup.containersReadyMs };
  } finally {
    await pod.stop();
  }
}

const suite: BenchSuite = {
  name: 'pod start',
  async run({ quick }): Promise<BenchResult[]> {
    const ROUNDS = quick ? 1 : 3;
    const missing = podmanMissing();
    if (missing) throw new Error(`the container pod needs rootful podman: ${missing}`);
    const root = repoRoot();
    const source = readManifest(join(root, 'compose', 'desktop-pod.yaml'));
    // the reference: the desktop's own container alone (and the init that prepares the home), played the same way
    const alone = { ...source, spec: { ...source.spec, containers: source.spec.containers.filter((c) => c.name === 'graphical') } };
    const run = await makeRunDir('bench-pod-start');
    const aloneFile = join(run.dir, 'graphical-alone.yaml');
    await writeFile(aloneFile, stringify(alone));
    const images = ['printer', 'graphical', 'pulseaudio', 'broadcast', 'filer', 'printerfile', 'sound', 'spawner', 'webshell'];
    // quick (CI, after the image tests built them from the same tree): images already there are used as they are;
    // building them again costs minutes and proves nothing about the suite
    if (!(quick && (await imagesPresent(images)))) await buildImages(images, undefined);
    const rounds: Round[] = [];
    const reference: number[] = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const desktop = await startContainerPod({ manifestPath: aloneFile, name: 'bench-pod-start-ref', build: false, readyTimeoutMs: 60_000 });
        reference.push(desktop.startup.readyMs);
        await desktop.stop();
        rounds.push(await fullPod('per-agent'));
      }
    } finally {
      await run.remove();
    }
    const ref = { name: 'graphical container alone, play to ready', ...ofRounds(reference) };
    const results: BenchResult[] = [
      {
        measure: 'kube play to every readiness probe passing',
        unit: 'ms',
        ...ofRounds(rounds.map((r) => r.readyMs)),
        reference: ref,
        better: 'lower',
        target: { value: { max: 10_000 } },
      },
      { measure: 'kube play to the first terminal output', unit: 'ms', ...ofRounds(rounds.map((r) => r.terminalMs)), reference: ref, better: 'lower' },
      { measure: 'kube play to the first audio frame', unit: 'ms', ...ofRounds(rounds.map((r) => r.audioMs)), reference: ref, better: 'lower' },
      { measure: 'where it goes: kube play (create + start)', unit: 'ms', ...ofRounds(rounds.map((r) => r.playedMs)), reference: ref, better: 'lower' },
    ];
    const names = [...(rounds[0]?.containers.keys() ?? [])];
    for (const name of names) {
      results.push({
        measure: `where it goes: ${name} ready`,
        unit: 'ms',
        ...ofRounds(rounds.map((r) => r.containers.get(name) ?? Number.NaN)),
        reference: ref,
        better: 'lower',
      });
    }
    return results;
  },
};

export default suite;
