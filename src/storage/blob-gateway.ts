import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { notFound } from '../services/errors.js';
import type { BlobStore } from './blob-store.js';
import { parseRangeHeader } from './http-range.js';
import { BlobIntegrityError } from './segmented-aead.js';

export interface BlobGatewayHandle {
  /** Loopback URL serving the decrypted object with Range support; valid until `close`. */
  url: string;
  /**
   * Aborted (reason: the BlobIntegrityError) when stored bytes of this object fail authentication. A reader
   * only sees a cut connection, which ffmpeg may take for end of file: this is how its caller learns the truth.
   */
  integritySignal: AbortSignal;
  /** The first authentication failure seen through this handle, or null while every byte served was genuine. */
  integrityFailure(): BlobIntegrityError | null;
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

interface OpenObject {
  key: string;
  integrity: AbortController;
}

const tokenPath = /^\/([0-9a-f]{64})$/;
const clientGoneCodes = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE']);

/**
 * ffmpeg/ffprobe need random access (an MP4's moov atom may sit at the end), so they read plaintext over
 * HTTP from 127.0.0.1 instead of a decrypted temp file. Each URL carries a 256-bit capability token.
 */
export function createBlobGateway(deps: BlobGatewayDeps): BlobGateway {
  const open = new Map<string, OpenObject>();
  const server = createServer((req, res) => void serve(req, res));
  let port: Promise<number> | undefined;

  const listen = () =>
    (port ??= new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    }));

  function recordIntegrityFailure(object: OpenObject, error: BlobIntegrityError): void {
    if (object.integrity.signal.aborted) return;
    object.integrity.abort(error);
    deps.log.error(
      { blobKey: object.key, err: error },
      'blob gateway served a blob that failed authentication',
    );
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const token = tokenPath.exec(req.url ?? '')?.[1];
    const object = token === undefined ? undefined : open.get(token);
    try {
      const sizeBytes = object === undefined ? null : await deps.blobStore.size(object.key);
      if (object === undefined || sizeBytes === null) {
        res.writeHead(404).end();
        return;
      }
      // Once any byte failed authentication the object is suspect as a whole: no more reads of it.
      if (object.integrity.signal.aborted) {
        res.writeHead(500).end();
        return;
      }
      await respond(req, res, object, sizeBytes);
    } catch (error) {
      if (object && error instanceof BlobIntegrityError) recordIntegrityFailure(object, error);
      if (res.headersSent) res.destroy();
      else res.writeHead(500).end();
      // A client that stops reading (ffmpeg seeking away) is routine, not a failure worth a warning.
      if (clientGoneCodes.has((error as NodeJS.ErrnoException).code ?? ''))
        deps.log.debug({ blobKey: object?.key }, 'blob gateway client went away');
      else if (!(error instanceof BlobIntegrityError))
        deps.log.warn({ blobKey: object?.key, err: error }, 'blob gateway could not serve an object');
    }
  }

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    object: OpenObject,
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
    const plaintext = await deps.blobStore.read(object.key, range);
    // Registered before pipeline() so the failure is on the handle before the client sees the cut.
    plaintext.once('error', (error) => {
      if (error instanceof BlobIntegrityError) recordIntegrityFailure(object, error);
    });
    await pipeline(plaintext, res);
  }

  return {
    async open(key) {
      if ((await deps.blobStore.size(key)) === null) throw notFound('blob');
      const token = randomBytes(32).toString('hex');
      const url = `http://127.0.0.1:${await listen()}/${token}`;
      const object: OpenObject = { key, integrity: new AbortController() };
      open.set(token, object);
      return {
        url,
        integritySignal: object.integrity.signal,
        integrityFailure: () => {
          const { signal } = object.integrity;
          return signal.aborted ? (signal.reason as BlobIntegrityError) : null;
        },
        close: async () => {
          open.delete(token);
        },
      };
    },
    async close() {
      open.clear();
      if (port === undefined) return;
      await port;
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
