import { infrastructureProblem } from '../services/infrastructure-errors.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ERRORS, Server, type Upload } from '@tus/server';
import type { Locker } from '@tus/utils';
import type { Logger } from 'pino';
import { actorRefOf, type Principal } from '../http/access-control.js';
import { cleanFilename } from '../media/filename.js';
import { problemBody } from '../http/problem-details.js';
import type { ResumableUploadHandler, UploadStatus } from '../http/routes/uploads.routes.js';
import type { MediaService } from '../services/media.service.js';
import { AppError, notFound, payloadTooLarge, unauthorized } from '../services/errors.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import type { StagedUploadStore } from '../storage/staged-upload-store.js';
import type { UploadReceipt, UploadReceiptStore } from '../storage/upload-receipts.js';
import { ownerMetadataKey, TusStoreView } from './tus-store-view.js';

const sniffBytes = 4096;

interface TusHookResponse {
  status_code?: number;
  headers?: Record<string, string>;
  body?: string;
}

interface NodeBackedRequest {
  runtime?: { node?: { req: IncomingMessage } };
}

/**
 * tus 1.0 on @tus/server over the encrypted staging store. Uploads belong to the organisation that created them;
 * the finishing request registers the media (same checks as multipart), answers as tus says (204 for a PATCH)
 * with the ids in Guardian-Media-Id / Guardian-Analysis-Id, and leaves a receipt for GET /api/v1/uploads/:id.
 */
export function createResumableUploads(deps: {
  datastore: StagedUploadStore;
  receipts: UploadReceiptStore;
  /** Unset: @tus/server's in-process MemoryLocker (one API server, or uploads staged on its own disk). */
  locker?: Locker;
  mediaService: MediaService;
  maxUploadBytes: number;
  log: Logger;
}): ResumableUploadHandler {
  const { receipts } = deps;
  const principals = new WeakMap<IncomingMessage, Principal>();
  const principalOf = (request: unknown): Principal => {
    const nodeRequest = (request as NodeBackedRequest).runtime?.node?.req;
    const principal = nodeRequest ? principals.get(nodeRequest) : undefined;
    if (!principal) throw unauthorized();
    return principal;
  };

  const server = new Server({
    path: '/api/v1/uploads',
    datastore: new TusStoreView(deps.datastore, receipts),
    maxSize: deps.maxUploadBytes,
    relativeLocation: true,
    ...(deps.locker ? { locker: deps.locker } : {}),
    // Same-origin API: no CORS headers at all (see withoutCorsAndWithProblems).
    allowedOrigins: () => false,
    async onIncomingRequest(request) {
      principalOf(request);
    },
    async onUploadCreate(request, upload) {
      // The organisation comes from the credentials, never from client metadata; the name is kept cleaned.
      const { filename, ...metadata } = upload.metadata ?? {};
      const cleaned = cleanFilename(filename);
      return {
        metadata: {
          ...metadata,
          ...(cleaned ? { filename: cleaned } : {}),
          [ownerMetadataKey]: principalOf(request).orgId,
        },
      };
    },
    async onUploadFinish(request, upload): Promise<TusHookResponse> {
      const principal = principalOf(request);
      const finishedAt = new Date().toISOString();
      const outcome = { orgId: principal.orgId, sizeBytes: upload.size ?? upload.offset, finishedAt };
      try {
        const media = await adopt(upload.id, principal);
        await keepReceipt(upload.id, { ...outcome, media, problem: null });
        // The status stays tus's own: 204 for the last PATCH, 201 (with Location) for a creation that completes.
        return { headers: { 'Guardian-Media-Id': media.mediaId, 'Guardian-Analysis-Id': media.analysisId } };
      } catch (error) {
        const problem = problemBody(appErrorOf(error, upload.id));
        await keepReceipt(upload.id, { ...outcome, media: null, problem });
        return {
          status_code: problem.status,
          headers: { 'content-type': 'application/problem+json' },
          body: JSON.stringify(problem),
        };
      }
    },
    async onResponseError(_request, error) {
      const problem = tusErrorToAppError(error, deps.log);
      return { status_code: problem.status, body: JSON.stringify(problemBody(problem)) };
    },
  });

  async function adopt(uploadId: string, principal: Principal) {
    const completed = await deps.datastore
      .finalize(uploadId, { headBytes: sniffBytes })
      .catch(async (error) => {
        // Bytes that fail authentication can never make a whole upload: it goes, and the receipt says why.
        if (error instanceof BlobIntegrityError) await deps.datastore.remove(uploadId);
        throw error;
      });
    const mediaId = randomUUID();
    const blobKey = `media-${mediaId}`;
    try {
      await completed.adoptAs(blobKey);
    } catch (error) {
      await completed.discard();
      throw error;
    }
    const registered = await deps.mediaService.adoptStored({
      orgId: principal.orgId,
      mediaId,
      blobKey,
      sha256: completed.sha256,
      sizeBytes: completed.sizeBytes,
      head: completed.head,
      filename: completed.metadata.filename ?? null,
      uploader: actorRefOf(principal),
    });
    return { mediaId: registered.id, analysisId: registered.analysisId };
  }

  async function keepReceipt(uploadId: string, receipt: UploadReceipt) {
    // The finishing response carries the outcome anyway: a lost receipt only costs the later GET.
    await receipts
      .write(uploadId, receipt)
      .catch((error: unknown) => deps.log.error({ err: error, uploadId }, 'upload receipt not written'));
  }

  function appErrorOf(error: unknown, uploadId: string): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof BlobIntegrityError) {
      deps.log.error({ err: error, uploadId }, 'a staged upload failed authentication');
      return stagedUploadIntegrityError();
    }
    deps.log.error({ err: error, uploadId }, 'finishing a resumable upload failed');
    const infrastructure = infrastructureProblem(error);
    if (infrastructure) return infrastructure;
    return new AppError(500, 'internal-error', 'Internal server error', 'the upload could not be stored');
  }

  const expiresAt = (from: string | undefined) =>
    new Date(Date.parse(from ?? '') + deps.datastore.getExpiration()).toISOString();

  return {
    async handle(request: IncomingMessage, response: ServerResponse, principal: Principal) {
      principals.set(request, principal);
      withoutCorsAndWithProblems(response);
      await server.handle(request, response);
    },

    async find(uploadId: string, principal: Principal): Promise<UploadStatus> {
      const staged: Upload | null = await deps.datastore.getUpload(uploadId).catch((error: unknown) => {
        if (error === ERRORS.FILE_NOT_FOUND || error === ERRORS.FILE_NO_LONGER_EXISTS) return null;
        throw error;
      });
      if (staged) {
        if (staged.metadata?.[ownerMetadataKey] !== principal.orgId) throw notFound('upload');
        const length = staged.size ?? 0;
        const { offset } = staged;
        return {
          id: uploadId,
          status: 'receiving',
          length,
          offset,
          expiresAt: expiresAt(staged.creation_date),
        };
      }
      const receipt = await receipts.read(uploadId);
      if (!receipt || receipt.orgId !== principal.orgId) throw notFound('upload');
      const { sizeBytes, media, problem } = receipt;
      return {
        id: uploadId,
        status: media ? 'stored' : 'refused',
        length: sizeBytes,
        offset: sizeBytes,
        expiresAt: expiresAt(receipt.finishedAt),
        ...(media ? { mediaId: media.mediaId, analysisId: media.analysisId } : {}),
        ...(problem ? { problem } : {}),
      };
    },

    cleanUpExpired: () => server.cleanUpExpiredUploads(),
  };

  /** Protocol errors of @tus/server as problems with stable codes; nothing of an internal error leaks. */
  function tusErrorToAppError(error: unknown, log: Logger): AppError {
    if (error instanceof AppError) return error;
    if (error === ERRORS.ERR_SIZE_EXCEEDED || error === ERRORS.ERR_MAX_SIZE_EXCEEDED)
      return payloadTooLarge(deps.maxUploadBytes);
    const known = tusErrorCodes.get(error);
    if (known) return known();
    if (error instanceof BlobIntegrityError) {
      log.error({ err: error }, 'a staged upload or its sidecar failed authentication');
      return stagedUploadIntegrityError();
    }
    log.error({ err: error }, 'resumable upload request failed');
    const infrastructure = infrastructureProblem(error);
    if (infrastructure) return infrastructure;
    return new AppError(
      500,
      'internal-error',
      'Internal server error',
      'an unexpected error occurred; it was logged',
    );
  }
}

// The same stable code as a stored file that fails authentication: the bytes on disk are not what was sent.
const stagedUploadIntegrityError = () =>
  new AppError(
    500,
    'blob-integrity',
    'Staged upload failed its integrity check',
    'the bytes or record of this upload on the server are damaged or were tampered with; nothing was stored: upload the file again',
  );

// A deferred length is refused the same way as a missing one.
const uploadLengthRequired = () =>
  new AppError(
    400,
    'upload-length-required',
    'Upload-Length required',
    'send Upload-Length (deferred lengths are not supported)',
  );

const tusErrorCodes = new Map<unknown, () => AppError>([
  [ERRORS.FILE_NOT_FOUND, () => notFound('upload')],
  [
    ERRORS.FILE_NO_LONGER_EXISTS,
    () => new AppError(410, 'upload-expired', 'Upload expired', 'the upload expired and was deleted'),
  ],
  [
    ERRORS.INVALID_OFFSET,
    () =>
      new AppError(
        409,
        'upload-offset-conflict',
        'Upload-Offset conflict',
        'Upload-Offset is not the offset the server has: HEAD the upload and resume from there',
      ),
  ],
  [ERRORS.INVALID_LENGTH, uploadLengthRequired],
  [ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION, uploadLengthRequired],
  [
    ERRORS.INVALID_METADATA,
    () =>
      new AppError(
        400,
        'upload-metadata-invalid',
        'Upload-Metadata invalid',
        'Upload-Metadata must be comma-separated `key base64value` pairs with unique keys',
      ),
  ],
  [
    ERRORS.MISSING_OFFSET,
    () =>
      new AppError(400, 'upload-offset-required', 'Upload-Offset required', 'a PATCH needs Upload-Offset'),
  ],
  [
    ERRORS.INVALID_CONTENT_TYPE,
    () =>
      new AppError(
        415,
        'unsupported-content-type',
        'Unsupported content type',
        'a PATCH body is Content-Type: application/offset+octet-stream',
      ),
  ],
  [
    ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION,
    () =>
      new AppError(
        400,
        'upload-concat-unsupported',
        'Concatenation not supported',
        'send the upload as one, not in parallel parts',
      ),
  ],
  [
    ERRORS.ERR_LOCK_TIMEOUT,
    () =>
      new AppError(
        423,
        'upload-locked',
        'Upload busy',
        'another request is writing this upload; retry shortly',
      ),
  ],
  [ERRORS.ABORTED, () => new AppError(400, 'upload-aborted', 'Request aborted', 'the request was aborted')],
]);

/**
 * @tus/server writes its responses itself: drop its CORS headers (a same-origin API needs none, and it would
 * allow any origin) and label its error bodies, which onResponseError made problems, as problem+json.
 */
function withoutCorsAndWithProblems(response: ServerResponse): void {
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = ((status: number, ...rest: unknown[]) => {
    const reason = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const headers = headerPairs(rest[0] as OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined).filter(
      ([name]) => !/^access-control-/i.test(name) && !(status >= 400 && /^content-type$/i.test(name)),
    );
    if (status >= 400) headers.push(['Content-Type', 'application/problem+json']);
    return writeHead(status, ...(reason === undefined ? [] : [reason]), headers.flat());
  }) as ServerResponse['writeHead'];
}

function headerPairs(headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): [string, string][] {
  if (!headers) return [];
  if (!Array.isArray(headers)) {
    return Object.entries(headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, String(value)] as [string, string]],
    );
  }
  if (headers.every((entry) => Array.isArray(entry))) {
    return (headers as unknown as [string, string][]).map(([name, value]) => [String(name), String(value)]);
  }
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < headers.length; index += 2)
    pairs.push([String(headers[index]), String(headers[index + 1])]);
  return pairs;
}
