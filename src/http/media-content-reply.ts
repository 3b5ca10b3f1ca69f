import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../services/errors.js';
import { blobIntegrityError, type MediaContent } from '../services/stored-media.service.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import type { ByteRange } from '../storage/blob-store.js';
import { parseRangeHeader } from '../storage/http-range.js';
import { attachmentDisposition, servedContentType } from './media-download.js';

/**
 * Serves stored media as a download: 200, 206 for one byte range, 416 outside the file; HEAD gets the headers
 * only. Bytes leave only after their segment authenticated; a failure mid-stream destroys the connection, so
 * the client sees an incomplete response, never a short success.
 */
export async function sendMediaContent(
  request: FastifyRequest,
  reply: FastifyReply,
  content: MediaContent,
): Promise<FastifyReply> {
  const { media, sizeBytes } = content;
  // The SHA-256 of the content is a strong validator, so `If-Range` can resume a download safely.
  const etag = `"${media.sha256}"`;
  const ifRange = request.headers['if-range'];
  const wanted = parseRangeHeader(
    ifRange === undefined || ifRange === etag ? request.headers.range : undefined,
    sizeBytes,
  );
  reply.headers({
    'accept-ranges': 'bytes',
    etag,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  });
  if (wanted.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${sizeBytes}`);
    throw new AppError(
      416,
      'range-not-satisfiable',
      'Range not satisfiable',
      `the file has ${sizeBytes} bytes; ask for one range inside it, e.g. bytes=0-1023`,
    );
  }
  const range = wanted.kind === 'partial' ? wanted.range : undefined;
  const length = range ? range.end - range.start + 1 : sizeBytes;
  const body =
    request.method === 'HEAD' || length === 0 ? null : await authenticatedBody(request, content, range);
  reply
    .status(range ? 206 : 200)
    .header('content-type', servedContentType(media.mime_type))
    .header(
      'content-disposition',
      attachmentDisposition({
        filename: media.original_filename,
        mediaId: media.id,
        sniffedType: media.mime_type,
      }),
    )
    .header('content-length', String(length));
  if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${sizeBytes}`);
  if (!body) return reply.send();
  body.once('error', (error) => {
    request.log.error(
      { err: error, mediaId: media.id, integrity: error instanceof BlobIntegrityError },
      'stored media failed while being served; the response was cut off',
    );
  });
  return reply.send(body);
}

/**
 * The first chunk is decrypted before any header goes out (it authenticates the final segment too), so a
 * damaged file is refused with a problem instead of a 200 that breaks off at once.
 */
async function authenticatedBody(
  request: FastifyRequest,
  content: MediaContent,
  range: ByteRange | undefined,
): Promise<Readable> {
  const chunks = (await content.read(range))[Symbol.asyncIterator]();
  let first: IteratorResult<Buffer>;
  try {
    first = (await chunks.next()) as IteratorResult<Buffer>;
  } catch (error) {
    if (!(error instanceof BlobIntegrityError)) throw error;
    request.log.error({ err: error, mediaId: content.media.id }, 'stored media failed authentication');
    throw blobIntegrityError();
  }
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
    } finally {
      // The client went away or the stream failed: close the blob file.
      await chunks.return?.();
    }
  }
  return Readable.from(rest(), { objectMode: false });
}
