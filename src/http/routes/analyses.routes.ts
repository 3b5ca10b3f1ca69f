import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createUncachedReads, type ReadCache } from '../../cache/read-cache.js';
import type { AnalysisArtifactsService, ArtifactEntry } from '../../services/analysis-artifacts.service.js';
import type { AnalysisService } from '../../services/analysis.service.js';
import type { LegalHoldService } from '../../services/legal-hold.service.js';
import { readers, requirePrincipal } from '../access-control.js';
import { sendArtifact } from '../artifact-reply.js';
import { sendCachedJson } from '../cached-reply.js';
import { analysisArtifactsSchema, analysisSchema, errorResponses, idParams } from '../schemas.js';
import { analysisView } from '../views.js';

export interface AnalysesRoutesDeps {
  analysisService: AnalysisService;
  artifacts: AnalysisArtifactsService;
  /** The analysed media's legal hold, shown with the report; absent (test apps): not shown. */
  legalHolds?: Pick<LegalHoldService, 'forMedia'>;
  /** Finished reports, per organisation; absent: every read goes to the database. */
  readCache?: ReadCache;
}

// Their reply changes only on a write that invalidates the cache; a live analysis's progress changes often.
const finishedStatuses: ReadonlySet<string> = new Set(['done', 'failed']);

export const artifactParams = z.strictObject({
  id: z.uuid(),
  detector: z.string().min(1).max(120).describe('detector id, percent-encoded (`model:x` → `model%3Ax`)'),
  name: z.string().min(1).max(120),
});

const artifactBytes = z.string().meta({ format: 'binary' });

export const analysesRoutes: FastifyPluginAsyncZod<AnalysesRoutesDeps> = async (app, deps) => {
  const readCache = deps.readCache ?? createUncachedReads();

  async function reportView(orgId: string, id: string) {
    const analysis = await deps.analysisService.get(orgId, id);
    if (!deps.legalHolds) return analysisView(analysis);
    const hold = await deps.legalHolds.forMedia(orgId, analysis.media_id);
    return {
      ...analysisView(analysis),
      mediaLegalHold: hold ? { reason: hold.reason, since: hold.at.toISOString(), by: hold.by } : null,
    };
  }

  app.get(
    '/api/v1/analyses/:id',
    {
      config: { access: readers },
      schema: {
        summary: 'Analysis status, progress and, once done, the band, detector results and full report',
        tags: ['analyses'],
        params: idParams,
        response: { 200: analysisSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { orgId } = requirePrincipal(request);
      const { id } = request.params;
      // The reply is the same for every role that may read it: the organisation and the id are the key.
      return sendCachedJson(reply, readCache, { orgId, key: `analysis:${id}` }, async () => {
        const view = await reportView(orgId, id);
        return { view, cacheable: finishedStatuses.has(view.status) };
      });
    },
  );

  app.get(
    '/api/v1/analyses/:id/artifacts',
    {
      config: { access: readers },
      schema: {
        summary: 'What the detectors computed besides their scores (timelines, crops, maps, spectra)',
        description:
          'Listed in report order with size and SHA-256; `href` fetches the bytes, exactly as the detector computed them. Bytes over the per-analysis limit were dropped at analysis time and bytes of deleted media are shredded: those have `href: null` and `unavailableReason`.',
        tags: ['analyses'],
        params: idParams,
        response: { 200: analysisArtifactsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { analysis, entries } = await deps.artifacts.list(principal.orgId, request.params.id);
      return {
        analysisId: analysis.id,
        status: analysis.status,
        artifacts: entries.map((entry) => artifactView(analysis.id, entry)),
      };
    },
  );

  app.get(
    '/api/v1/analyses/:id/artifacts/:detector/:name',
    {
      config: { access: readers },
      schema: {
        summary: 'One artifact, decrypted: the bytes the detector computed',
        description:
          'Checked against the SHA-256 the report lists before anything is sent. Served with its declared type when it is JSON, PNG, JPEG, PGM/PPM or CSV (else application/octet-stream), `nosniff`, a sandboxing CSP, and `Content-Disposition: attachment` for anything but JSON. Unknown or unavailable artifacts answer 404 `artifact-not-found`.',
        tags: ['analyses'],
        params: artifactParams,
        response: {
          200: {
            description: 'the artifact',
            content: {
              'application/json': { schema: artifactBytes },
              'application/octet-stream': { schema: artifactBytes },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { id, detector, name } = request.params;
      return sendArtifact(reply, await deps.artifacts.read(principal.orgId, id, detector, name));
    },
  );
};

export function artifactView(
  analysisId: string,
  entry: ArtifactEntry,
): z.infer<typeof analysisArtifactsSchema>['artifacts'][number] {
  const { listing, detector } = entry;
  return {
    detector,
    name: listing.name,
    contentType: listing.contentType,
    description: listing.description,
    sizeBytes: listing.sizeBytes,
    sha256: listing.sha256,
    href:
      entry.unavailable === null
        ? `/api/v1/analyses/${analysisId}/artifacts/${encodeURIComponent(detector)}/${encodeURIComponent(listing.name)}`
        : null,
    ...(entry.unavailable === null ? {} : { unavailableReason: entry.unavailable }),
  };
}
