import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReportShare } from '../../db/schema.js';
import type { ReportShareService } from '../../services/report-share.service.js';
import { shareLimits } from '../../services/report-share.service.js';
import { requirePrincipal, writers } from '../access-control.js';
import { artifactSchema, analysisSchema, errorResponses, idParams, problemSchema } from '../schemas.js';
import { analysisView } from '../views.js';
import { artifactView } from './analyses.routes.js';
import { clientOf } from './auth.routes.js';

export interface ReportSharesRoutesDeps {
  shares: ReportShareService;
}

/** Per client address: a token is 256 random bits, so this is about load, not guessing. */
export const sharedReportRateLimit = { max: 30, timeWindow: 60_000 };

const tags = ['report-shares'];

const createShareBody = z
  .strictObject({
    expiresInHours: z
      .number()
      .int()
      .min(1)
      .max(shareLimits.maxHours)
      .optional()
      .describe(`default ${shareLimits.defaultHours}, at most ${shareLimits.maxHours} (30 days)`),
    label: z
      .string()
      .trim()
      .min(1)
      .max(shareLimits.labelLength)
      .optional()
      .describe('for the organisation only (who it was sent to); the recipient never sees it'),
    includeMedia: z
      .boolean()
      .optional()
      .describe(
        'also the media file and the artifacts drawn from it (face crops, maps); default false: the report alone',
      ),
  })
  .nullish()
  .describe('optional; send no body for the defaults');

const actorSchema = z.object({ type: z.enum(['user', 'api-key']), id: z.uuid() });

const shareSchema = z.object({
  id: z.uuid(),
  analysisId: z.uuid(),
  label: z.string().nullable(),
  includeMedia: z.boolean(),
  status: z.enum(['active', 'expired', 'revoked']),
  createdBy: actorSchema,
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
  revokedBy: actorSchema.nullable(),
  firstUsedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  useCount: z.number().int().nonnegative(),
});

const createdShareSchema = shareSchema.extend({
  token: z.string().describe('the secret, shown this once: only its SHA-256 is stored'),
  path: z.string().describe('the web page that shows the report: `/shared/<token>` on this site'),
});

const sharedReportSchema = z.object({
  analysis: analysisSchema,
  sharedUntil: z.iso.datetime(),
  media: z
    .object({ url: z.string(), expiresAt: z.iso.datetime(), mimeType: z.string() })
    .nullable()
    .describe(
      'a signed link to the file (valid an hour at most, and only while the share stands); null unless shared',
    ),
  artifacts: z.array(artifactSchema).describe('`href` is a signed link; empty unless the media was shared'),
});

const tokenParams = z.strictObject({ token: z.string().max(200) });

export const reportSharesRoutes: FastifyPluginAsyncZod<ReportSharesRoutesDeps> = async (app, deps) => {
  const { shares } = deps;
  const view = (share: ReportShare): z.infer<typeof shareSchema> => ({
    id: share.id,
    analysisId: share.analysis_id,
    label: share.label,
    includeMedia: share.include_media,
    status: shares.statusOf(share),
    createdBy: { type: share.created_by_type, id: share.created_by },
    createdAt: share.created_at.toISOString(),
    expiresAt: share.expires_at.toISOString(),
    revokedAt: share.revoked_at?.toISOString() ?? null,
    revokedBy:
      share.revoked_by_type && share.revoked_by
        ? { type: share.revoked_by_type, id: share.revoked_by }
        : null,
    firstUsedAt: share.first_used_at?.toISOString() ?? null,
    lastUsedAt: share.last_used_at?.toISOString() ?? null,
    useCount: Number(share.use_count),
  });

  app.post(
    '/api/v1/analyses/:id/shares',
    {
      config: { access: writers },
      schema: {
        summary: 'Create a read-only, expiring link to this report; the token is shown only in this response',
        description:
          'Only finished analyses (409 `analysis-not-finished` otherwise). Audited as `report-share.create`.',
        tags,
        params: idParams,
        body: createShareBody,
        response: { 201: createdShareSchema, 409: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { share, token } = await shares.create(
        principal,
        request.params.id,
        {
          expiresInHours: request.body?.expiresInHours ?? shareLimits.defaultHours,
          label: request.body?.label ?? null,
          includeMedia: request.body?.includeMedia ?? false,
        },
        clientOf(request),
      );
      return reply.status(201).send({ ...view(share), token, path: `/shared/${token}` });
    },
  );

  app.get(
    '/api/v1/analyses/:id/shares',
    {
      config: { access: writers },
      schema: {
        summary: "This report's share links, newest first (never their tokens)",
        tags,
        params: idParams,
        response: { 200: z.object({ items: z.array(shareSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      return { items: (await shares.list(principal.orgId, request.params.id)).map(view) };
    },
  );

  app.delete(
    '/api/v1/shares/:id',
    {
      config: { access: writers },
      schema: {
        summary: 'Revoke a share link at once (audited as `report-share.revoke`; revoking twice is harmless)',
        tags,
        params: idParams,
        response: { 204: z.null().describe('Revoked'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await shares.revoke(requirePrincipal(request), request.params.id, clientOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/shared-reports/:token',
    {
      config: { access: 'public', rateLimit: sharedReportRateLimit },
      schema: {
        summary: 'A shared report, read-only, for whoever holds the link (no sign-in)',
        security: [],
        description:
          'The report as its organisation sees it (no uploader, no file name, no people). Unknown token: 403 `share-link-invalid`; past its end: 403 `share-link-expired`; revoked: 403 `share-link-revoked`. The first use is audited (`report-share.first-use`); every use is counted on the share.',
        tags,
        params: tokenParams,
        response: { 200: sharedReportSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const shared = await shares.open(request.params.token, clientOf(request));
      reply.header('cache-control', 'no-store');
      return {
        analysis: analysisView(shared.analysis),
        sharedUntil: shared.share.expires_at.toISOString(),
        media: shared.media
          ? {
              url: shared.media.url,
              expiresAt: shared.media.expiresAt.toISOString(),
              mimeType: shared.media.mimeType,
            }
          : null,
        artifacts: shared.artifacts.map(({ entry, link }) => ({
          ...artifactView(shared.analysis.id, entry),
          href: link?.url ?? null,
        })),
      };
    },
  );
};
