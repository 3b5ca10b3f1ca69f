import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Analysis } from '../db/schema.js';
import type { ArtifactListing } from '../pipeline/artifact-collector.js';
import type { AnalysisReport } from '../pipeline/report.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import { AppError, notFound } from './errors.js';
import type { ReportIntegrity } from './report-integrity.js';
import { blobIntegrityError } from './stored-media.service.js';

export interface AnalysisArtifactsDeps {
  blobStore: BlobStore;
  analyses: Pick<AnalysisRepository, 'findById' | 'findIdsForMedia'>;
  media: Pick<MediaRepository, 'findById'>;
  log: Logger;
  /** The listing comes from the report: checked against its signed statement; absent: not checked (unit tests). */
  reportIntegrity?: Pick<ReportIntegrity, 'check'>;
}

/** One artifact the report lists, with where its bytes lie in the analysis's artifact blob. */
export interface ArtifactEntry {
  detector: string;
  listing: ArtifactListing;
  /** Offset in the blob; null when the bytes were not kept (`listing.dropped`) or are gone. */
  offset: number | null;
  /** Why the bytes cannot be fetched; null when they can. */
  unavailable: string | null;
}

export interface ArtifactContent {
  entry: ArtifactEntry;
  data: Buffer;
}

/**
 * One encrypted blob per analysis, under a key derived from its id: the kept artifacts' bytes back to back,
 * in report order, so the report's listing is the index. A retry overwrites it; deletion needs no lookup.
 */
export const artifactBlobKey = (analysisId: string) => `analysis-artifacts-${analysisId}`;

export const artifactNotFound = (detail: string) =>
  new AppError(404, 'artifact-not-found', 'Artifact not found', detail);

const shreddedWithMedia = 'shredded when the media was deleted';

/** The report's artifact listing in order, each with its offset in the blob (stored JSON: read defensively). */
export function artifactLayout(report: AnalysisReport | null): ArtifactEntry[] {
  const detectors = Array.isArray(report?.detectors) ? report.detectors : [];
  const entries: ArtifactEntry[] = [];
  let offset = 0;
  for (const detector of detectors) {
    for (const listing of detector.artifacts ?? []) {
      if (listing.dropped !== undefined) {
        entries.push({ detector: detector.id, listing, offset: null, unavailable: listing.dropped });
        continue;
      }
      entries.push({ detector: detector.id, listing, offset, unavailable: null });
      offset += listing.sizeBytes;
    }
  }
  return entries;
}

/** Writing an analysis's artifacts with its report, shredding them with its media, and reading them back. */
export function createAnalysisArtifactsService(deps: AnalysisArtifactsDeps) {
  const { blobStore, log } = deps;

  async function findAnalysis(orgId: string, analysisId: string): Promise<Analysis> {
    const analysis = await deps.analyses.findById(orgId, analysisId);
    if (!analysis) throw notFound('analysis');
    await deps.reportIntegrity?.check(analysis);
    return analysis;
  }

  /** The listing, each entry marked unavailable when its bytes were dropped or shredded with the media. */
  async function entriesOf(analysis: Analysis): Promise<ArtifactEntry[]> {
    const entries = artifactLayout(analysis.status === 'done' ? (analysis.report as AnalysisReport) : null);
    if (entries.length === 0) return entries;
    const media = await deps.media.findById(analysis.org_id, analysis.media_id);
    if (media?.status === 'stored') return entries;
    return entries.map((entry) => ({
      ...entry,
      offset: null,
      unavailable: entry.unavailable ?? shreddedWithMedia,
    }));
  }

  async function readBytes(analysisId: string, offset: number, sizeBytes: number): Promise<Buffer> {
    if (sizeBytes === 0) return Buffer.alloc(0);
    const range = { start: offset, end: offset + sizeBytes - 1 };
    return Buffer.concat(await (await blobStore.read(artifactBlobKey(analysisId), range)).toArray());
  }

  return {
    /**
     * Before the report is written: stores the bytes of every artifact the report lists as kept (from
     * `delivered`, by `<detector>/<name>`), replacing what an earlier attempt stored; none: removes it.
     */
    async save(analysisId: string, report: AnalysisReport, delivered: ReadonlyMap<string, Buffer>) {
      const kept = artifactLayout(report).filter((entry) => entry.offset !== null);
      const key = artifactBlobKey(analysisId);
      if (kept.length === 0) {
        await blobStore.delete(key);
        return;
      }
      const parts = kept.map(({ detector, listing }) => {
        const data = delivered.get(`${detector}/${listing.name}`);
        if (!data || data.length !== listing.sizeBytes)
          throw new Error(
            `artifact ${detector}/${listing.name} is listed as kept but its bytes were not handed over`,
          );
        return data;
      });
      await blobStore.put(key, Readable.from(parts));
    },

    /** A failed analysis keeps nothing an attempt may have stored. */
    async discard(analysisId: string): Promise<void> {
      await blobStore.delete(artifactBlobKey(analysisId));
    },

    /** Crypto-shreds the artifacts of every analysis of the media (crops and maps show its content). */
    async shredForMedia(orgId: string, mediaId: string): Promise<number> {
      const ids = await deps.analyses.findIdsForMedia(orgId, mediaId);
      for (const id of ids) await blobStore.delete(artifactBlobKey(id));
      return ids.length;
    },

    async list(orgId: string, analysisId: string): Promise<{ analysis: Analysis; entries: ArtifactEntry[] }> {
      const analysis = await findAnalysis(orgId, analysisId);
      return { analysis, entries: await entriesOf(analysis) };
    },

    /** The bytes of one artifact, authenticated and checked against the digest the report lists. */
    async read(orgId: string, analysisId: string, detector: string, name: string): Promise<ArtifactContent> {
      const analysis = await findAnalysis(orgId, analysisId);
      const entries = await entriesOf(analysis);
      const entry = entries.find((found) => found.detector === detector && found.listing.name === name);
      if (!entry) throw artifactNotFound(`the analysis has no artifact ${detector}/${name}`);
      if (entry.offset === null)
        throw artifactNotFound(
          `the bytes of ${detector}/${name} are not available: ${entry.unavailable ?? 'unknown reason'}`,
        );
      const { sizeBytes, sha256 } = entry.listing;
      const where = { analysisId: analysis.id, artifact: `${detector}/${name}` };
      const data = await readBytes(analysis.id, entry.offset, sizeBytes).catch((error: unknown) => {
        if (error instanceof AppError && error.status === 404) {
          log.error(where, 'the report lists a kept artifact but its blob is missing');
          throw artifactNotFound(`the bytes of ${detector}/${name} are missing from storage`);
        }
        if (!(error instanceof BlobIntegrityError) && !(error instanceof RangeError)) throw error;
        log.error({ ...where, err: error }, 'stored artifacts failed authentication or are cut short');
        throw blobIntegrityError();
      });
      // A blob another attempt overwrote never passes for the artifact the report lists.
      if (createHash('sha256').update(data).digest('hex') !== sha256) {
        log.error(where, 'stored artifact differs from the one the report lists');
        throw blobIntegrityError();
      }
      return { entry, data };
    },
  };
}

export type AnalysisArtifactsService = ReturnType<typeof createAnalysisArtifactsService>;
