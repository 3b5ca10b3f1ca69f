import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, payloadTooLarge } from '../../services/errors.js';
import type { AnalysisRepository } from '../../repositories/analysis.repository.js';
import type { MediaService } from '../../services/media.service.js';
import type { StoredMediaService } from '../../services/stored-media.service.js';
import { actorRefOf, readers, requirePrincipal, writers } from '../access-control.js';
import { sendMediaContent } from '../media-content-reply.js';
import { errorResponses, idParams, mediaSchema, problemSchema } from '../schemas.js';
import { mediaView } from '../views.js';
import { clientOf } from './auth.routes.js';

// Multipart framing (boundaries, part headers) on top of the file itself.
export const multipartOverheadBytes = 64 * 1024;
// Form fields sent beside the file (a name, a note) are read and ignored; these bound what they may cost.
const multipartFieldLimits = { fields: 8, fieldSize: 1024, fieldNameSize: 100, parts: 9 };

const fileBytes = z.string().meta({ format: 'binary' });
const contentResponse = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: fileBytes } },
});

export interface MediaRoutesDeps {
  mediaService: MediaService;
  storedMedia: StoredMediaService;
  analyses: AnalysisRepository;
  maxUploadBytes: number;
}

export const mediaRoutes: FastifyPluginAsyncZod<MediaRoutesDeps> = async (app, deps) => {
  app.post(
    '/api/v1/media',
    {
      config: { access: writers },
      schema: {
        summary: 'Upload a file (multipart/form-data, one field named `file`) and queue its analysis',
        tags: ['media'],
        consumes: ['multipart/form-data'],
        response: { 201: mediaSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const declared = Number(request.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > deps.maxUploadBytes + multipartOverheadBytes) {
        throw payloadTooLarge(deps.maxUploadBytes);
      }
      if (!request.isMultipart()) {
        throw new AppError(
          415,
          'multipart-required',
          'multipart/form-data required',
          'send the file as multipart/form-data field `file`',
        );
      }
      const part = await request
        .file({ limits: { files: 1, ...multipartFieldLimits, fileSize: deps.maxUploadBytes + 1 } })
        .catch((error: unknown) => {
          throw isFieldLimitError(error)
            ? new AppError(
                400,
                'too-many-fields',
                'Too many form fields',
                `send one file part named \`file\` and at most ${multipartFieldLimits.fields} other fields`,
              )
            : error;
        });
      if (!part)
        throw new AppError(400, 'file-missing', 'File missing', 'the multipart body has no file part');
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw new AppError(
          400,
          'file-missing',
          'File missing',
          `expected the field \`file\`, got \`${part.fieldname.slice(0, 64)}\``,
        );
      }
      const registered = await deps.mediaService.upload({
        orgId: principal.orgId,
        source: part.file,
        filename: part.filename || null,
        uploader: actorRefOf(principal),
      });
      const media = await deps.mediaService.get(principal.orgId, registered.id);
      const analysis = await deps.analyses.findById(principal.orgId, registered.analysisId);
      return reply
        .status(201)
        .header('location', `/api/v1/media/${registered.id}`)
        .send(mediaView(media, analysis));
    },
  );

  app.get(
    '/api/v1/media/:id',
    {
      config: { access: readers },
      schema: {
        summary: 'Media metadata and its latest analysis',
        tags: ['media'],
        params: idParams,
        response: { 200: mediaSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const media = await deps.mediaService.get(principal.orgId, request.params.id);
      const analysis = await deps.analyses.findLatestForMedia(principal.orgId, media.id);
      return mediaView(media, analysis);
    },
  );

  // One route per method, HEAD first (else Fastify adds its own): each gets its own OpenAPI operationId.
  for (const method of ['HEAD', 'GET'] as const) {
    app.route({
      method,
      url: '/api/v1/media/:id/content',
      config: { access: readers },
      schema: {
        summary: 'Download the stored file, decrypted (single byte ranges supported)',
        description:
          'Always `Content-Disposition: attachment` (RFC 6266, `filename*` in UTF-8), the type sniffed at upload for video and images (anything else as application/octet-stream), `nosniff` and a sandboxing CSP. A stored file that fails authentication is never served: the connection is cut.',
        tags: ['media'],
        params: idParams,
        headers: z.looseObject({
          range: z.string().max(200).optional().describe('one range: `bytes=a-b`, `bytes=a-` or `bytes=-n`'),
          'if-range': z.string().max(200).optional().describe('the ETag; another value gets the whole file'),
        }),
        response: {
          200: contentResponse('the whole file'),
          206: contentResponse('the requested range (`Content-Range`)'),
          416: problemSchema,
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        const principal = requirePrincipal(request);
        const content = await deps.storedMedia.openContent(principal.orgId, request.params.id);
        return sendMediaContent(request, reply, content);
      },
    });
  }

  app.delete(
    '/api/v1/media/:id',
    {
      config: { access: writers },
      schema: {
        summary: 'Delete media: its encrypted file and data key are destroyed, the deletion is audited',
        description:
          'The media then answers 404 everywhere. A finished analysis keeps its report; one still queued ends `failed` with `media-missing`.',
        tags: ['media'],
        params: idParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      await deps.storedMedia.delete(principal, request.params.id, clientOf(request));
      return reply.status(204).send(null);
    },
  );
};

function isFieldLimitError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT';
}
