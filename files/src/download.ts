import { ReadStream } from 'node:fs';
import { basename } from 'node:path';
import contentDisposition from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReadBuffers, sendFileRange, writeChunks } from './pooled-send.js';
import { planZip, screenZip, zipEntries, type ZipRecheck } from './zip.js';
import { zipBytes } from './zip-writer.js';
import type { OpenedEntry } from './paths.js';

/** `attachment; filename="ascii"` plus an RFC 5987 `filename*` whenever the name is not plain ASCII. */
export function attachment(name: string): string {
  return contentDisposition(name, { fallback: name.replace(/[^\x20-\x7e]/g, '?') });
}

/** The response written by hand from here on (reused buffers), with the status and the headers set on the reply. */
function takeOver(reply: FastifyReply, statusCode: number): void {
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
  reply.raw.writeHead(statusCode);
}

/**
 * Streams one file with Range and conditional requests (via @fastify/send), a Content-Type from its name and an
 * attachment Content-Disposition with an RFC 5987 filename.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, opened: OpenedEntry): Promise<FastifyReply> {
  const { default: send, mime } = await import('@fastify/send');
  const { real, handle } = opened;
  // served through the descriptor already opened and checked: /proc/self/fd/N reopens that very file, whatever has
  // happened to its name since; our descriptor is closed once the response is done
  reply.raw.once('close', () => void handle.close().catch(() => {}));
  const { statusCode, headers, stream } = await send(request.raw, String(handle.fd), {
    root: '/proc/self/fd/',
    dotfiles: 'allow',
    acceptRanges: true,
    cacheControl: false,
    index: false,
    // the stream send makes is not read (its range is): a small one, destroyed unopened
    highWaterMark: 16 * 1024,
  });
  reply.code(statusCode).headers(headers as Record<string, string>);
  if (statusCode !== 200 && statusCode !== 206) return reply.send(stream);
  reply.header('content-disposition', attachment(basename(real))).type(mime.getType(real) ?? 'application/octet-stream');
  if (!(stream instanceof ReadStream)) return reply.send(stream); // HEAD: no body
  // send decided the status, the headers and the range; the bytes go through reused buffers (pooled-send.ts)
  const start = Number(/^bytes (\d+)-/.exec(String(headers['Content-Range'] ?? ''))?.[1] ?? 0);
  stream.destroy();
  takeOver(reply, statusCode);
  await sendFileRange(handle, reply.raw, start, Number(headers['Content-Length'] ?? 0));
  return reply;
}

/**
 * Streams a folder as a zip named after it (stored entries: fast, and most large files are compressed already); the
 * number of entries left out is in X-Skipped-Entries. A file that vanishes, changes into something else or leaves the
 * root while the zip is streamed ends the response (logged); the files are read through reused buffers.
 */
export async function sendFolderZip(reply: FastifyReply, root: string, real: string, screen?: ZipRecheck): Promise<FastifyReply> {
  const plan = await planZip(root, real);
  if (screen) await screenZip(root, plan, screen);
  const name = `${basename(real) || 'home'}.zip`;
  const buffers = new ReadBuffers();
  reply
    .type('application/zip')
    .header('content-disposition', attachment(name))
    .header('x-skipped-entries', String(plan.skipped.length))
    .header('x-refused-entries', String(plan.refused.length));
  takeOver(reply, 200);
  const failed = await writeChunks(reply.raw, zipBytes(zipEntries(root, plan, buffers, screen)), buffers);
  if (failed) reply.log.warn({ err: { message: failed.message } }, 'zip stream ended early');
  return reply;
}
