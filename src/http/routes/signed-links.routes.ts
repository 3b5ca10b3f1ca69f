import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PresentedLink, SignedLinksService } from '../../services/signed-links.service.js';
import { linkLifetimes } from '../../services/signed-links.service.js';
import { linkInvalid } from '../../services/link-signer.js';
import { readers, requirePrincipal } from '../access-control.js';
import { sendArtifact } from '../artifact-reply.js';
import { sendMediaContent } from '../media-content-reply.js';
import { errorResponses, idParams, problemSchema } from '../schemas.js';
import { artifactParams } from './analyses.routes.js';

export interface SignedLinksRoutesDeps {
  links: SignedLinksService;
}

const tags = ['signed-links'];

const linkRequestBody = z
  .strictObject({
    expiresInSeconds: z
      .number()
      .int()
      .min(10)
      .max(linkLifetimes.maxSeconds)
      .optional()
      .describe(`default ${linkLifetimes.defaultSeconds}, at most ${linkLifetimes.maxSeconds}`),
  })
  .nullish()
  .describe('optional; send no body for the defaults');

const signedLinkSchema = z.object({
  url: z.string().describe('path on this API; works without cookies or keys until `expiresAt`'),
  expiresAt: z.iso.datetime(),
});

// Loose on purpose: a link that is malformed gets the same 403 `link-invalid` as one that was altered.
const signedQuery = z.object({
  org: z.string().max(64),
  exp: z.string().max(16),
  sig: z.string().max(128),
  share: z.string().max(64).optional(),
});

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function presented(query: z.infer<typeof signedQuery>): PresentedLink {
  const { org, exp, sig, share } = query;
  if (!uuidPattern.test(org) || !/^\d{1,12}$/.test(exp) || (share !== undefined && !uuidPattern.test(share)))
    throw linkInvalid();
  return { org, exp: Number(exp), sig, share };
}

const fileBytes = z.string().meta({ format: 'binary' });
const bytesResponse = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: fileBytes } },
});
const signedDescription =
  'Public: the query (`org`, `exp`, `sig`, and `share` for links a report share issued) is the authorisation, an HMAC-SHA256 over purpose, organisation, object and expiry. Altered or malformed: 403 `link-invalid`; past `exp`: 403 `link-expired`; from a revoked or ended share: 403 `link-revoked`.';

export const signedLinksRoutes: FastifyPluginAsyncZod<SignedLinksRoutesDeps> = async (app, deps) => {
  const { links } = deps;
  const expiryOf = (body: z.infer<typeof linkRequestBody>) =>
    links.expiryIn(body?.expiresInSeconds ?? linkLifetimes.defaultSeconds);
  const view = (link: { url: string; expiresAt: Date }) => ({
    url: link.url,
    expiresAt: link.expiresAt.toISOString(),
  });

  app.post(
    '/api/v1/media/:id/content-links',
    {
      config: { access: readers },
      schema: {
        summary: 'A short-lived signed link to the stored file, for players and downloads without cookies',
        tags,
        params: idParams,
        body: linkRequestBody,
        response: { 201: signedLinkSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const link = await links.mediaLink(principal.orgId, request.params.id, {
        expiresAt: expiryOf(request.body),
      });
      return reply.status(201).send(view(link));
    },
  );

  app.post(
    '/api/v1/analyses/:id/artifacts/:detector/:name/links',
    {
      config: { access: readers },
      schema: {
        summary: 'A short-lived signed link to one artifact',
        tags,
        params: artifactParams,
        body: linkRequestBody,
        response: { 201: signedLinkSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { id, detector, name } = request.params;
      const link = await links.artifactLink(
        principal.orgId,
        { analysisId: id, detector, name },
        { expiresAt: expiryOf(request.body) },
      );
      return reply.status(201).send(view(link));
    },
  );

  for (const method of ['HEAD', 'GET'] as const) {
    app.route({
      method,
      url: '/api/v1/signed/media/:id/content',
      config: { access: 'public' },
      schema: {
        summary: 'The stored file through a signed link (single byte ranges supported)',
        security: [],
        description: `${signedDescription} Deleted media: 410 \`media-deleted\`. Headers as for /api/v1/media/{id}/content.`,
        tags,
        params: idParams,
        querystring: signedQuery,
        headers: z.looseObject({
          range: z.string().max(200).optional(),
          'if-range': z.string().max(200).optional(),
        }),
        response: {
          200: bytesResponse('the whole file'),
          206: bytesResponse('the requested range'),
          410: problemSchema,
          416: problemSchema,
          ...errorResponses,
        },
      },
      handler: async (request, reply) => {
        const content = await links.openMedia(request.params.id, presented(request.query));
        return sendMediaContent(request, reply, content);
      },
    });
  }

  app.get(
    '/api/v1/signed/analyses/:id/artifacts/:detector/:name',
    {
      config: { access: 'public' },
      schema: {
        summary: 'One artifact through a signed link',
        security: [],
        description: signedDescription,
        tags,
        params: artifactParams,
        querystring: signedQuery,
        response: {
          200: {
            description: 'the artifact',
            content: {
              'application/json': { schema: fileBytes },
              'application/octet-stream': { schema: fileBytes },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { id, detector, name } = request.params;
      const content = await links.readArtifact({ analysisId: id, detector, name }, presented(request.query));
      return sendArtifact(reply, content);
    },
  );
};
