import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { createUncachedReads, type ReadCache } from '../../cache/read-cache.js';
import { cleanFilename } from '../../media/filename.js';
import type { AnalysisHistoryRow, MediaHistoryRow } from '../../repositories/history.repository.js';
import type { HistoryFilters, HistoryService } from '../../services/history.service.js';
import { readers, requirePrincipal } from '../access-control.js';
import { sendCachedJson } from '../cached-reply.js';
import {
  analysisPageSchema,
  historyQuerySchema,
  mediaPageSchema,
  type analysisHistoryItemSchema,
  type mediaHistoryItemSchema,
} from '../history-schemas.js';
import { errorResponses } from '../schemas.js';

const filtersDescription =
  'Newest first (created time, then id), in the caller’s organisation. Filters combine with AND; an unknown or foreign cursor answers 400 `invalid-cursor`, `from` not before `to` answers 400 `invalid-date-range`.';

export interface HistoryRoutesDeps {
  history: HistoryService;
  /** The first page of the media list, per organisation; absent: every read goes to the database. */
  readCache?: ReadCache;
}

export const historyRoutes: FastifyPluginAsyncZod<HistoryRoutesDeps> = async (app, deps) => {
  const readCache = deps.readCache ?? createUncachedReads();

  app.get(
    '/api/v1/media',
    {
      config: { access: readers },
      schema: {
        summary: 'Stored media, each with its uploader and latest analysis, paged by cursor',
        description: `${filtersDescription} \`band\` and \`status\` apply to each media's latest analysis.`,
        tags: ['media'],
        querystring: historyQuerySchema,
        response: { 200: mediaPageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { cursor, limit, ...query } = request.query;
      const listMedia = async () => {
        const page = await deps.history.listMedia(principal.orgId, {
          ...filtersOf(query),
          limit,
          ...(cursor !== undefined ? { cursor } : {}),
        });
        return { items: page.items.map(mediaItemView), nextCursor: page.nextCursor };
      };
      // Only the first page without filters is hot (what the history view opens on); its reply depends on
      // nothing but the organisation and the page size (the same for every role that may read it).
      if (cursor !== undefined || Object.values(query).some((value) => value !== undefined))
        return listMedia();
      return sendCachedJson(
        reply,
        readCache,
        { orgId: principal.orgId, key: `media:first-page:${limit}` },
        async () => ({
          view: await listMedia(),
          cacheable: true,
        }),
      );
    },
  );

  app.get(
    '/api/v1/analyses',
    {
      config: { access: readers },
      schema: {
        summary: 'Analyses (also those of deleted media: their reports stay), paged by cursor',
        description: `${filtersDescription} \`uploader\` and \`q\` apply to the analysed media.`,
        tags: ['analyses'],
        querystring: historyQuerySchema,
        response: { 200: analysisPageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { cursor, limit, ...query } = request.query;
      const page = await deps.history.listAnalyses(principal.orgId, {
        ...filtersOf(query),
        limit,
        ...(cursor !== undefined ? { cursor } : {}),
      });
      return { items: page.items.map(analysisItemView), nextCursor: page.nextCursor };
    },
  );
};

function filtersOf(query: Omit<z.infer<typeof historyQuerySchema>, 'cursor' | 'limit'>): HistoryFilters {
  return {
    ...(query.band !== undefined ? { band: query.band } : {}),
    ...(query.status !== undefined ? { status: query.status } : {}),
    ...(query.from !== undefined ? { from: new Date(query.from) } : {}),
    ...(query.to !== undefined ? { to: new Date(query.to) } : {}),
    ...(query.uploader !== undefined ? { uploaderId: query.uploader } : {}),
    ...(query.q !== undefined ? { q: query.q } : {}),
  };
}

function mediaItemView(row: MediaHistoryRow): z.infer<typeof mediaHistoryItemSchema> {
  return {
    id: row.id,
    sha256: row.sha256,
    sizeBytes: row.sizeBytes,
    mimeType: row.mimeType,
    // Names stored before names were cleaned at intake are cleaned on the way out too.
    originalFilename: cleanFilename(row.originalFilename),
    createdAt: row.createdAt.toISOString(),
    uploader: row.uploader,
    legalHold: row.legalHold,
    latestAnalysis: row.latestAnalysis,
  };
}

function analysisItemView(row: AnalysisHistoryRow): z.infer<typeof analysisHistoryItemSchema> {
  return {
    id: row.id,
    mediaId: row.mediaId,
    status: row.status,
    band: row.band,
    progress: Math.round(Math.min(1, Math.max(0, row.progress)) * 100),
    stage: row.stage,
    pipelineVersion: row.pipelineVersion,
    run: row.run,
    errorCode: row.errorCode,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    media: { ...row.media, originalFilename: cleanFilename(row.media.originalFilename) },
  };
}
