import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { rssMiB, type RunningAgent } from '@desktop-agents/tools/harness';

export { rssMiB };

export const TOKEN = 'filer-test-token-0042';
export const auth = { authorization: `Bearer ${TOKEN}` };

export function url(agent: RunningAgent, path: string, query: Record<string, string> = {}): string {
  const q = new URLSearchParams(query).toString();
  return `${agent.url}${path}${q ? `?${q}` : ''}`;
}

export async function upload(agent: RunningAgent, fields: Record<string, string | Blob>, prefix = '/filer'): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, (value as File).name ?? 'blob');
  }
  return fetch(`${agent.url}${prefix}`, { method: 'POST', headers: auth, body: form });
}

/** The home-relative path an upload got, from its Location header (the body is exactly the original's). */
export function uploadedPath(res: Response): string | undefined {
  const location = res.headers.get('location');
  const file = location ? new URL(location, 'http://x').searchParams.get('file') : null;
  return file?.replace(/^~\//, '');
}

export function file(content: string | Buffer, name: string): File {
  return new File([content], name);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Hashes a response body as it streams, never holding it. */
export async function sha256OfResponse(res: Response): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    Readable.fromWeb(res.body as WebReadableStream),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        hash.update(chunk);
        done();
      },
    }),
  );
  return { hash: hash.digest('hex'), bytes };
}

/** Samples a process's RSS every 100 ms until stopped; resolves with the peak. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // process gone
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
