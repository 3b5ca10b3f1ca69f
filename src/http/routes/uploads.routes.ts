import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../services/errors.js';
import { requirePrincipal, writers, type Principal } from '../access-control.js';
import { sendProblem } from '../problem-details.js';
import { errorResponses, problemSchema } from '../schemas.js';

export interface ResumableUploadHandler {
  /** Serves one tus request for an authenticated principal (the response is written to `res`). */
  handle(request: IncomingMessage, response: ServerResponse, principal: Principal): Promise<void>;
  /** The upload if it belongs to the principal's organisation (staged, or finished and not yet expired); else 404. */
  find(uploadId: string, principal: Principal): Promise<UploadStatus>;
  /** Deletes staged uploads and receipts past their expiry; resolves with how many. */
  cleanUpExpired(): Promise<number>;
}

export interface UploadsRoutesDeps {
  handler: ResumableUploadHandler;
}

const uploadParams = z.strictObject({
  uploadId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,100}$/)
    .describe('the last segment of the `Location` of a creation'),
});

/** An upload of the caller's organisation: still receiving bytes, or finished (stored as media, or refused). */
const uploadStatusSchema = z.object({
  id: z.string(),
  status: z.enum(['receiving', 'stored', 'refused']),
  length: z.number().int().nonnegative().describe('Upload-Length, bytes'),
  offset: z.number().int().nonnegative().describe('bytes received (Upload-Offset)'),
  expiresAt: z.iso.datetime().describe('when the upload, or the record of its outcome, is deleted'),
  mediaId: z.uuid().optional().describe('status `stored`: the media the upload became'),
  analysisId: z.uuid().optional().describe('status `stored`: its analysis'),
  problem: problemSchema.optional().describe('status `refused`: the problem the finishing request got'),
});

export type UploadStatus = z.infer<typeof uploadStatusSchema>;

// Header names are lower case in Fastify; the documented tus headers, loosely (tus validates them too).
const tusResumable = z
  .string()
  .optional()
  .describe('`1.0.0` (required on every tus request but OPTIONS: else 412)');
const uploadLength = z.string().regex(/^\d+$/).describe('size of the whole upload in bytes');
const uploadMetadata = z
  .string()
  .optional()
  .describe('comma-separated `key base64(value)` pairs; `filename` names the media');
const uploadOffset = z.string().regex(/^\d+$/).describe('the offset the body starts at (from HEAD)');

const header = (description: string) => ({ type: 'string', description });
const mediaIdHeaders = {
  'Guardian-Media-Id': header('the media id, once the upload finished and was stored'),
  'Guardian-Analysis-Id': header('its analysis id (GET /api/v1/analyses/{id})'),
};
const noContent = (description: string, headers: Record<string, ReturnType<typeof header>>) =>
  z.null().meta({ description, headers: { 'Tus-Resumable': header('`1.0.0`'), ...headers } });

const tusErrors = {
  ...errorResponses,
  409: problemSchema,
  410: problemSchema,
  412: problemSchema,
  423: problemSchema,
};
const tusDocs =
  'tus 1.0 (https://tus.io/protocols/resumable-upload), core + creation, creation-with-upload, termination, expiration.';

interface TusRoute {
  method: HTTPMethods;
  url: string;
  schema: Record<string, unknown>;
}

const collection = '/api/v1/uploads';
const oneUpload = '/api/v1/uploads/:uploadId';

// One route per method, so each is documented with its own tus headers.
const tusRoutes: TusRoute[] = [
  {
    method: 'OPTIONS',
    url: collection,
    schema: {
      summary: 'tus: what the server supports (version, extensions, maximum size)',
      response: {
        204: noContent('tus capabilities', {
          'Tus-Version': header('`1.0.0`'),
          'Tus-Extension': header('`creation,creation-with-upload,termination,expiration`'),
          'Tus-Max-Size': header('MAX_UPLOAD_BYTES'),
        }),
        ...tusErrors,
      },
    },
  },
  {
    method: 'POST',
    url: collection,
    schema: {
      summary: 'tus: create an upload (its URL is in Location); with a body, the first bytes too',
      headers: z
        .object({
          'tus-resumable': tusResumable,
          'upload-length': uploadLength,
          'upload-metadata': uploadMetadata,
        })
        .loose(),
      response: {
        201: noContent('Upload created. If the body completed it, the media ids are in the headers.', {
          Location: header('`/api/v1/uploads/{uploadId}`'),
          'Upload-Offset': header('bytes received, when a body was sent'),
          'Upload-Expires': header('when an unfinished upload is deleted (UPLOAD_EXPIRY_SECONDS)'),
          ...mediaIdHeaders,
        }),
        ...tusErrors,
      },
    },
  },
  {
    method: 'OPTIONS',
    url: oneUpload,
    schema: {
      summary: 'tus: capabilities, as on the collection',
      params: uploadParams,
      response: { 204: noContent('tus capabilities', { 'Tus-Version': header('`1.0.0`') }), ...tusErrors },
    },
  },
  {
    method: 'HEAD',
    url: oneUpload,
    schema: {
      summary: 'tus: the offset to resume from; a finished upload is complete and names its media',
      params: uploadParams,
      headers: z.object({ 'tus-resumable': tusResumable }).loose(),
      response: {
        200: noContent(
          'Where the upload stands (Cache-Control: no-store). A refused upload answers its problem again.',
          {
            'Upload-Offset': header('bytes received'),
            'Upload-Length': header('size of the whole upload'),
            'Upload-Metadata': header('the metadata the client sent (nothing the server adds)'),
            ...mediaIdHeaders,
          },
        ),
        ...tusErrors,
      },
    },
  },
  {
    method: 'PATCH',
    url: oneUpload,
    schema: {
      summary: 'tus: append bytes at Upload-Offset; the last PATCH stores the media (204, ids in headers)',
      description:
        'Body: `Content-Type: application/offset+octet-stream`. The PATCH that completes the upload runs the same checks as a multipart upload: 204 with `Guardian-Media-Id` and `Guardian-Analysis-Id`, or the problem (e.g. 415, 422) — the upload is then gone. `GET /api/v1/uploads/{uploadId}` tells the outcome later.',
      params: uploadParams,
      headers: z.object({ 'tus-resumable': tusResumable, 'upload-offset': uploadOffset }).loose(),
      response: {
        204: noContent('Bytes stored', {
          'Upload-Offset': header('the new offset'),
          'Upload-Expires': header('while unfinished: when it is deleted'),
          ...mediaIdHeaders,
        }),
        ...tusErrors,
      },
    },
  },
  {
    method: 'DELETE',
    url: oneUpload,
    schema: {
      summary: 'tus: abandon an unfinished upload (a finished one: 409; delete its media instead)',
      params: uploadParams,
      headers: z.object({ 'tus-resumable': tusResumable }).loose(),
      response: { 204: noContent('Upload deleted', {}), ...tusErrors },
    },
  },
];

const uploadComplete = (upload: UploadStatus) =>
  new AppError(
    409,
    'upload-complete',
    'Upload complete',
    'the upload is finished; it takes no more requests',
    {
      ...(upload.mediaId ? { mediaId: upload.mediaId } : {}),
    },
  );

/** tus 1.0 resumable uploads at /api/v1/uploads; Fastify authenticates, @tus/server speaks the protocol. */
export const uploadsRoutes: FastifyPluginAsyncZod<UploadsRoutesDeps> = async (app, deps) => {
  // tus bodies are raw bytes streamed by @tus/server itself: nothing else is parsed here (others get 415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));

  async function serveTus(request: FastifyRequest, reply: FastifyReply) {
    const principal = requirePrincipal(request);
    if (request.method !== 'OPTIONS' && request.headers['tus-resumable'] !== '1.0.0') {
      reply.header('tus-version', '1.0.0');
      return sendProblem(reply, tusVersionRequired());
    }
    const { uploadId } = request.params as { uploadId?: string };
    // Checked before handing over to tus so a foreign or unknown upload gets problem+json like every route.
    if (uploadId && request.method !== 'OPTIONS') {
      const upload = await deps.handler.find(uploadId, principal);
      if (upload.status === 'refused' && upload.problem) throw refusedAgain(upload.problem);
      if (upload.status === 'stored') {
        if (request.method !== 'HEAD') throw uploadComplete(upload);
        reply.header('guardian-media-id', upload.mediaId).header('guardian-analysis-id', upload.analysisId);
      }
    }
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value as string);
    }
    await deps.handler.handle(request.raw, reply.raw, principal);
  }

  for (const route of tusRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      config: { access: writers, swagger: { exposeHeadRoute: true } },
      schema: { tags: ['uploads'], description: tusDocs, ...route.schema },
      handler: serveTus,
    });
  }

  app.get(
    oneUpload,
    {
      // HEAD is tus's own (above), never derived from this GET.
      exposeHeadRoute: false,
      config: { access: writers },
      schema: {
        summary:
          'Where an upload stands, and once finished what it became (media and analysis ids, or the problem)',
        description:
          'Not part of tus: JSON for clients that lost the last response. Finished uploads are kept for UPLOAD_EXPIRY_SECONDS.',
        tags: ['uploads'],
        params: uploadParams,
        response: { 200: uploadStatusSchema, ...errorResponses },
      },
    },
    async (request) => deps.handler.find(request.params.uploadId, requirePrincipal(request)),
  );
};

const tusVersionRequired = () =>
  new AppError(412, 'tus-version-unsupported', 'Precondition failed', 'send Tus-Resumable: 1.0.0');

function refusedAgain({ status, code, title, detail }: NonNullable<UploadStatus['problem']>): AppError {
  return new AppError(status, code, title, detail);
}
