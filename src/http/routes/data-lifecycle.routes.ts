import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LegalHoldService } from '../../services/legal-hold.service.js';
import type { RetentionService } from '../../services/retention.service.js';
import { admins, requirePrincipal } from '../access-control.js';
import {
  legalHoldBody,
  legalHoldResponse,
  retentionPolicyBody,
  retentionPolicySchema,
} from '../lifecycle-schemas.js';
import { errorResponses, idParams, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';

export interface DataLifecycleRoutesDeps {
  legalHolds: LegalHoldService;
  retention: RetentionService;
}

const policyView = (policy: { mediaRetentionDays: number | null; updatedAt: Date | null }) => ({
  mediaRetentionDays: policy.mediaRetentionDays,
  updatedAt: policy.updatedAt?.toISOString() ?? null,
});

/** The organisation's retention policy and legal holds on media: admins only, every change audited. */
export const dataLifecycleRoutes: FastifyPluginAsyncZod<DataLifecycleRoutesDeps> = async (app, deps) => {
  app.get(
    '/api/v1/organisation/retention-policy',
    {
      config: { access: admins },
      schema: {
        summary: "The organisation's retention policy",
        description:
          'Only media has a retention period. Reports (analyses) are kept: their signed statements are in the transparency log. Audit entries are never pruned: the hash chain must verify from its first entry.',
        tags: ['retention'],
        response: { 200: retentionPolicySchema, ...errorResponses },
      },
    },
    async (request) => policyView(await deps.retention.getPolicy(requirePrincipal(request).orgId)),
  );

  app.put(
    '/api/v1/organisation/retention-policy',
    {
      config: { access: admins },
      schema: {
        summary: 'Set how long media is kept (audited with the value before and after)',
        description:
          'From the next retention run (every LIFECYCLE_INTERVAL_SECONDS, or `guardian retention run`), stored media older than `mediaRetentionDays` that is not on legal hold is crypto-shredded. `null` keeps media until someone deletes it.',
        tags: ['retention'],
        body: retentionPolicyBody,
        response: { 200: retentionPolicySchema, ...errorResponses },
      },
    },
    async (request) =>
      policyView(
        await deps.retention.setPolicy(
          requirePrincipal(request),
          request.body.mediaRetentionDays,
          clientOf(request),
        ),
      ),
  );

  app.put(
    '/api/v1/media/:id/legal-hold',
    {
      config: { access: admins },
      schema: {
        summary: 'Put media on legal hold (or change the reason): no deletion path may shred it',
        tags: ['media', 'retention'],
        params: idParams,
        body: legalHoldBody,
        response: { 200: legalHoldResponse, 409: problemSchema, ...errorResponses },
      },
    },
    async (request) => {
      const hold = await deps.legalHolds.set(
        requirePrincipal(request),
        request.params.id,
        request.body.reason,
        clientOf(request),
      );
      return {
        mediaId: request.params.id,
        legalHold: { reason: hold.reason, since: hold.at.toISOString(), by: hold.by },
      };
    },
  );

  app.delete(
    '/api/v1/media/:id/legal-hold',
    {
      config: { access: admins },
      schema: {
        summary: 'Release the legal hold (audited); the media can then be deleted again',
        tags: ['media', 'retention'],
        params: idParams,
        response: { 204: z.null().describe('Released (or was not held)'), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.legalHolds.release(requirePrincipal(request), request.params.id, clientOf(request));
      return reply.status(204).send(null);
    },
  );
};
