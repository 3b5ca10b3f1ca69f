import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { notFound } from '../services/errors.js';
import type { BlobStore } from './blob-store.js';
import { parseRangeHeader } from './http-range.js';

export interface BlobGatewayHandle {
  /** Loopback URL serving the decrypted object with Range support; valid until `close`. */
  url: string;
  close(): Promise<void>;
}

export interface BlobGateway {
  open(key: string): Promise<BlobGatewayHandle>;
  close(): Promise<void>;
}

export interface BlobGatewayDeps {
  blobStore: BlobStore;
  log: Logger;
}

const tokenPath = /^\/([0-9a-f]{64})$/;
const clientGoneCodes = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE']);

/**
 * ffmpeg/ffprobe need random access (an MP4's moov atom may sit at the end), so they read plaintext over
 * HTTP from 127.0.0.1 instead of a decrypted temp file. Each URL carries a 256-bit capability token.
 */
export function createBlobGateway(deps: BlobGatewayDeps): BlobGateway {
  const tokens = new Map<string, string>();
  const server = createServer((req, res) => void serve(req, res));
  let port: Promise<number> | undefined;

  const listen = () =>
    (port ??= new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    }));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const token = tokenPath.exec(req.url ?? '')?.[1];
    const key = token === undefined ? undefined : tokens.get(token);
    try {
      const sizeBytes = key === undefined ? null : await deps.blobStore.size(key);
      if (key === undefined || sizeBytes === null) {
        res.writeHead(404).end();
        return;
      }
      await respond(req, res, key, sizeBytes);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
      // A client that stops reading (ffmpeg seeking away) is routine, not a failure worth a warning.
      if (clientGoneCodes.has((error as NodeJS.ErrnoException).code ?? ''))
        deps.log.debug({ blobKey: key }, 'blob gateway client went away');
      else deps.log.warn({ blobKey: key, err: error }, 'blob gateway could not serve an object');
    }
  }

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    sizeBytes: number,
  ): Promise<void> {
    const request = parseRangeHeader(req.headers.range, sizeBytes);
    res.setHeader('Accept-Ranges', 'bytes');
    if (request.kind === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${sizeBytes}` }).end();
      return;
    }
    const range = request.kind === 'partial' ? request.range : undefined;
    const length = range ? range.end - range.start + 1 : sizeBytes;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', length);
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${sizeBytes}`);
    res.writeHead(range ? 206 : 200);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    await pipeline(await deps.blobStore.read(key, range), res);
  }

  return {
    async open(key) {
      if ((await deps.blobStore.size(key)) === null) throw notFound('blob');
      const token = randomBytes(32).toString('hex');
      const url = `http://127.0.0.1:${await listen()}/${token}`;
      tokens.set(token, key);
      return {
        url,
        close: async () => {
          tokens.delete(token);
        },
      };
    },
    async close() {
      tokens.clear();
      if (port === undefined) return;
      await port;
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
