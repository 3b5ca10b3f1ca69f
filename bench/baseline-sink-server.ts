// Upload baseline, run as its own process so its RSS is its own: a bare node:http server that streams each
// request body to a file and fsyncs it, the least any upload endpoint must do. Usage: baseline-sink-server.ts DIR
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const targetDir = process.argv[2];
if (!targetDir) throw new Error('usage: baseline-sink-server.ts DIR');
let uploads = 0;

const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405).end();
    return;
  }
  const path = join(targetDir, `upload-${(uploads += 1)}.bin`);
  receive(request, path).then(
    (bytes) => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })),
    (error: unknown) => response.writeHead(500).end(String(error)),
  );
});

async function receive(request: NodeJS.ReadableStream, path: string): Promise<number> {
  const out = createWriteStream(path);
  await pipeline(request, out);
  // The write stream has closed its descriptor by now; fsync through a fresh one flushes the same file.
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return out.bytesWritten;
}

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
