import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server, type Upload } from '@tus/server';
import type { Logger } from 'pino';
import type { Principal } from '../http/access-control.js';
import { cleanFilename } from '../media/filename.js';
import { problemBody } from '../http/problem-details.js';
import type { ResumableUploadHandler } from '../http/routes/uploads.routes.js';
import type { MediaService } from '../services/media.service.js';
import { AppError, notFound } from '../services/errors.js';
import type { EncryptedTusDataStore } from '../storage/encrypted-tus.datastore.js';

const sniffBytes = 4096;

interface NodeBackedRequest {
  runtime?: { node?: { req: IncomingMessage } };
}

/**
 * tus 1.0 on @tus/server over the encrypted staging store. Uploads belong to the organisation that created them;
 * the finishing PATCH registers the media (same checks as multipart) and answers with its JSON.
 */
export function createResumableUploads(deps: {
  datastore: EncryptedTusDataStore;
  mediaService: MediaService;
  maxUploadBytes: number;
  log: Logger;
}): ResumableUploadHandler {
  const principals = new WeakMap<IncomingMessage, Principal>();
  const principalOf = (request: unknown): Principal => {
    const nodeRequest = (request as NodeBackedRequest).runtime?.node?.req;
    const principal = nodeRequest ? principals.get(nodeRequest) : undefined;
    if (!principal) throw tusProblem(new AppError(401, 'unauthenticated', 'Authentication required'));
    return principal;
  };

  const server = new Server({
    path: '/api/v1/uploads',
    datastore: deps.datastore,
    maxSize: deps.maxUploadBytes,
    relativeLocation: true,
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
          orgId: principalOf(request).orgId,
        },
      };
    },
    async onUploadFinish(request, upload) {
      const principal = principalOf(request);
      try {
        const registered = await adopt(upload.id, principal);
        return {
          status_code: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(registered),
        };
      } catch (error) {
        const appError =
          error instanceof AppError
            ? error
            : new AppError(500, 'internal-error', 'Internal server error', 'the upload could not be stored');
        if (appError.status >= 500)
          deps.log.error({ err: error, uploadId: upload.id }, 'finishing a resumable upload failed');
        return {
          status_code: appError.status,
          headers: { 'content-type': 'application/problem+json' },
          body: JSON.stringify(problemBody(appError)),
        };
      }
    },
  });

  async function adopt(uploadId: string, principal: Principal) {
    const completed = await deps.datastore.finalize(uploadId, { headBytes: sniffBytes });
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
    });
    return { ...registered, createdAt: registered.createdAt.toISOString() };
  }

  return {
    async handle(request: IncomingMessage, response: ServerResponse, principal: Principal) {
      principals.set(request, principal);
      await server.handle(request, response);
    },
    async assertOwnUpload(uploadId: string, principal: Principal) {
      const upload: Upload | null = await deps.datastore.getUpload(uploadId).catch(() => null);
      if (!upload || upload.metadata?.orgId !== principal.orgId) throw notFound('upload');
    },
    cleanUpExpired: () => server.cleanUpExpiredUploads(),
  };
}

/** @tus/server aborts a request with a thrown { status_code, body }. */
function tusProblem(error: AppError) {
  return { status_code: error.status, body: JSON.stringify(problemBody(error)) };
}
