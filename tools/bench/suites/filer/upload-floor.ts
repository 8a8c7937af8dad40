// The upload floor of the filer bench: the least any Node upload server must do. A request's body is written to one
// file in 1 MiB writes and fsynced before the answer; nothing parsed, nothing checked. Prints its port, then serves
// PUT /<name> into the folder given as its argument.
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

const WRITE_BYTES = 1024 * 1024;
const folder = process.argv[2] ?? '';
if (!folder) throw new Error('usage: upload-floor.js FOLDER');

const server = createServer((req, res) => {
  void (async () => {
    const file = await open(join(folder, basename(req.url ?? '/upload') || 'upload'), 'w');
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BYTES) {
          await file.write(Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) await file.write(Buffer.concat(pending, pendingBytes));
      await file.sync();
      res.setHeader('content-type', 'application/json');
      res.end('{"code":200,"data":"ok"}');
    } finally {
      await file.close();
    }
  })().catch((err: unknown) => {
    res.statusCode = 500;
    res.end(String(err));
  });
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
