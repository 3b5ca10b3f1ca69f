import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canonicalJson } from '../../evidence/canonical-json.js';
import { evidenceBundleSchema } from '../../evidence/evidence-bundle.js';
import type { EvidenceService } from '../../services/evidence.service.js';
import { readers, requirePrincipal } from '../access-control.js';
import { errorResponses, idParams } from '../schemas.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const verifyBody = z.strictObject({
  bundle: z.unknown().describe('an evidence bundle as GET /api/v1/analyses/{id}/evidence returns it'),
  mediaSha256: sha256Hex.optional().describe('SHA-256 of the media file, computed by the caller'),
  trustedKeyIds: z
    .array(sha256Hex)
    .max(100)
    .optional()
    .describe('key ids you trust (GET /api/v1/log/keys): every key the bundle uses must be one of them'),
  tsaRootsPem: z
    .array(z.string().max(64 * 1024))
    .max(10)
    .optional()
    .describe(
      'PEM root certificates the RFC 3161 anchors must chain to (the TSA you trust); without them the chain is not-checked',
    ),
});

const verificationSchema = z.object({
  ok: z.boolean().describe('true only when no check failed'),
  complete: z.boolean().describe('true only when every check ran and passed (nothing not-checked)'),
  checks: z.array(
    z.object({
      name: z.string(),
      status: z.enum(['passed', 'failed', 'not-checked']),
      detail: z.string(),
    }),
  ),
});

// Reports can be large (per-frame scores, face tracks); the global limit of 1 MiB is for everything else.
const verifyBodyLimit = 16 * 1024 * 1024;

export const evidenceRoutes: FastifyPluginAsyncZod<{ evidence: EvidenceService }> = async (app, deps) => {
  app.get(
    '/api/v1/analyses/:id/evidence',
    {
      config: { access: readers },
      schema: {
        summary: 'Evidence bundle: report, signed statement, inclusion proof, signed tree head and log keys',
        description:
          'One self-contained file, served in its RFC 8785 form (keep it byte for byte: `guardian verify` checks that too). `guardian verify BUNDLE --media FILE` checks it offline; docs/verification.md says how to check it without this software. 409 `evidence-not-ready` until the analysis is done.',
        tags: ['evidence'],
        params: idParams,
        response: {
          200: {
            description: 'the evidence bundle',
            content: { 'application/json': { schema: evidenceBundleSchema } },
          },
          409: errorResponses[404],
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const bundle = await deps.evidence.bundle(principal.orgId, request.params.id);
      return (
        reply
          .type('application/json')
          .header('content-disposition', `attachment; filename="evidence-${bundle.analysisId}.json"`)
          .serializer((payload) => payload as string)
          // Sent as its canonical text, not re-serialised: the bytes are part of what a verifier checks.
          .send(canonicalJson(bundle) as never)
      );
    },
  );

  app.post(
    '/api/v1/verify',
    {
      bodyLimit: verifyBodyLimit,
      config: { access: 'public', rateLimit: { max: 30, timeWindow: 60_000 } },
      schema: {
        summary: 'Checks an evidence bundle, as `guardian verify` does offline',
        description:
          'Statement signature, report hash (RFC 8785), inclusion proof against the tree head, tree head signature, with `mediaSha256` the media hash, and the anchors: RFC 3161 tokens offline (chain checked against `tsaRootsPem`; without roots, not-checked). Solana anchors are not-checked here: this endpoint makes no outbound requests (use `guardian verify --solana-rpc URL`). Each check is listed as passed, failed or not-checked. A malformed bundle is a failed `bundle-format` check, not a 400.',
        tags: ['evidence'],
        body: verifyBody,
        response: { 200: verificationSchema, ...errorResponses },
      },
    },
    async (request) =>
      deps.evidence.verify(request.body.bundle, {
        ...(request.body.mediaSha256 ? { mediaSha256: request.body.mediaSha256 } : {}),
        ...(request.body.trustedKeyIds ? { trustedKeyIds: request.body.trustedKeyIds } : {}),
        tsaRoots: request.body.tsaRootsPem ?? [],
      }),
  );
};
