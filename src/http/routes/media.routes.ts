import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError, payloadTooLarge } from '../../services/errors.js';
import type { AnalysisRepository } from '../../repositories/analysis.repository.js';
import type { MediaService } from '../../services/media.service.js';
import { readers, requirePrincipal, writers } from '../access-control.js';
import { errorResponses, idParams, mediaSchema } from '../schemas.js';
import { mediaView } from '../views.js';

// Multipart framing (boundaries, part headers) on top of the file itself.
const multipartOverheadBytes = 64 * 1024;

export interface MediaRoutesDeps {
  mediaService: MediaService;
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
      const part = await request.file({ limits: { files: 1, fields: 0, fileSize: deps.maxUploadBytes + 1 } });
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
        filename: part.filename ? part.filename.slice(0, 255) : null,
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
};
