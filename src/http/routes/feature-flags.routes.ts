import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { flagView as flagModelView, type FeatureFlag } from '../../flags/feature-flag.js';
import {
  flagCreateSchema,
  flagPatchSchema,
  flagTypeSchema,
  rolloutSchema,
  variantMap,
  variantNameSchema,
} from '../../flags/flag-schemas.js';
import { AppError } from '../../services/errors.js';
import type { FeatureFlagService, FlagChangeContext } from '../../services/feature-flag.service.js';
import { actorRefOf, admins, requirePrincipal } from '../access-control.js';
import { errorResponses, problemSchema } from '../schemas.js';
import { clientOf } from './auth.routes.js';

export interface FeatureFlagRoutesDeps {
  flags: FeatureFlagService;
  /** FEATURE_FLAG_ADMIN_ORGS: flags are deployment-wide, so only these organisations' admins manage them. */
  adminOrgs: readonly string[];
}

const tags = ['feature-flags'];
// Any key in a path is looked up (a malformed one is simply not found: 404 flag-not-found, not 400).
const pathKey = z.string().min(1).max(200).describe('flag key');
const keyParams = z.strictObject({ key: pathKey });
const overrideParams = z.strictObject({ key: pathKey, orgId: z.uuid() });

const flagSchema = z.object({
  key: z.string(),
  type: flagTypeSchema,
  description: z.string(),
  enabled: z.boolean().describe('false: every evaluation gets the code default (reason DISABLED)'),
  variants: z.array(z.object({ name: z.string(), value: z.unknown() })),
  defaultVariant: z.string(),
  rollout: z.array(z.object({ variant: z.string(), weight: z.number().int() })).nullable(),
  overrides: z
    .array(z.object({ orgId: z.uuid(), variant: z.string() }))
    .describe('organisations pinned to a variant, whatever the rollout says'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
const flagResponses = { 200: flagSchema, 409: problemSchema, ...errorResponses };

// 404, as for another organisation's resource: the flags belong to the operator's organisations.
const notFlagAdmin = () =>
  new AppError(
    404,
    'flag-admin-not-allowed',
    'Not found',
    'feature flags apply to the whole deployment: only admins of an organisation listed in FEATURE_FLAG_ADMIN_ORGS manage them (or `guardian flags` on the host)',
  );

function flagView(flag: FeatureFlag): z.infer<typeof flagSchema> {
  const view = flagModelView(flag);
  return { ...view, variants: Object.entries(view.variants).map(([name, value]) => ({ name, value })) };
}

/** Deployment-wide feature flags: admins of the operator organisations only; every change audited. */
export const featureFlagsRoutes: FastifyPluginAsyncZod<FeatureFlagRoutesDeps> = async (app, deps) => {
  const adminOrgs = new Set(deps.adminOrgs);
  const flagAdmin = { access: admins };

  /** The caller as a flag admin (404 for other organisations), for the audit entry of a change. */
  function flagAdminContext(request: FastifyRequest): FlagChangeContext {
    const principal = requirePrincipal(request);
    if (!adminOrgs.has(principal.orgId)) throw notFlagAdmin();
    const client = clientOf(request);
    return {
      actor: actorRefOf(principal),
      auditOrgId: principal.orgId,
      ip: client.ip,
      userAgent: client.userAgent,
    };
  }

  app.get(
    '/api/v1/feature-flags',
    {
      config: flagAdmin,
      schema: {
        summary: 'Every feature flag, with its rollout and organisation overrides',
        tags,
        response: { 200: z.object({ flags: z.array(flagSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      flagAdminContext(request);
      return { flags: (await deps.flags.list()).map(flagView) };
    },
  );

  app.post(
    '/api/v1/feature-flags',
    {
      config: flagAdmin,
      schema: {
        summary: 'Create a feature flag (audited as `flag.created`)',
        description:
          'Problems: `invalid-flag` (a variant not of the type, the default not a variant), `invalid-flag-rollout`, `flag-exists` (409).',
        tags,
        body: flagCreateSchema,
        response: { 201: flagSchema, 409: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await deps.flags.create(
        { ...body, variants: variantMap(body.variants) },
        flagAdminContext(request),
      );
      return reply.status(201).send(flagView(created));
    },
  );

  app.get(
    '/api/v1/feature-flags/:key',
    {
      config: flagAdmin,
      schema: { summary: 'One feature flag', tags, params: keyParams, response: flagResponses },
    },
    async (request) => {
      flagAdminContext(request);
      return flagView(await deps.flags.get(request.params.key));
    },
  );

  app.patch(
    '/api/v1/feature-flags/:key',
    {
      config: flagAdmin,
      schema: {
        summary:
          'Change a flag: enable or disable it, its variants, default, rollout (audited as `flag.updated`)',
        description:
          'Takes effect on this server at once and on every other process within FEATURE_FLAG_CACHE_MS. Removing a variant an organisation override uses is 409 `flag-variant-in-use`.',
        tags,
        params: keyParams,
        body: flagPatchSchema,
        response: flagResponses,
      },
    },
    async (request) => {
      const { variants, ...rest } = request.body;
      const changes = {
        ...(Object.fromEntries(
          Object.entries(rest).filter(([, value]) => value !== undefined),
        ) as typeof rest),
        ...(variants ? { variants: variantMap(variants) } : {}),
      };
      return flagView(await deps.flags.update(request.params.key, changes, flagAdminContext(request)));
    },
  );

  app.put(
    '/api/v1/feature-flags/:key/rollout',
    {
      config: flagAdmin,
      schema: {
        summary:
          'Set the percentage rollout weights, or null to remove the rollout (audited as `flag.updated`)',
        tags,
        params: keyParams,
        body: z.strictObject({ rollout: rolloutSchema.nullable() }),
        response: flagResponses,
      },
    },
    async (request) =>
      flagView(
        await deps.flags.update(
          request.params.key,
          { rollout: request.body.rollout },
          flagAdminContext(request),
        ),
      ),
  );

  app.delete(
    '/api/v1/feature-flags/:key',
    {
      config: flagAdmin,
      schema: {
        summary:
          'Delete a flag and its overrides; callers get their code default (audited as `flag.deleted`)',
        tags,
        params: keyParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.flags.remove(request.params.key, flagAdminContext(request));
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/v1/feature-flags/:key/overrides/:orgId',
    {
      config: flagAdmin,
      schema: {
        summary: 'Pin one organisation to a variant (audited as `flag.override.set`)',
        tags,
        params: overrideParams,
        body: z.strictObject({ variant: variantNameSchema }),
        response: flagResponses,
      },
    },
    async (request) =>
      flagView(
        await deps.flags.setOverride(
          request.params.key,
          request.params.orgId,
          request.body.variant,
          flagAdminContext(request),
        ),
      ),
  );

  app.delete(
    '/api/v1/feature-flags/:key/overrides/:orgId',
    {
      config: flagAdmin,
      schema: {
        summary: "Remove an organisation's override (audited as `flag.override.cleared`)",
        tags,
        params: overrideParams,
        response: flagResponses,
      },
    },
    async (request) =>
      flagView(
        await deps.flags.clearOverride(request.params.key, request.params.orgId, flagAdminContext(request)),
      ),
  );
};
