import { dependencyUnavailable, infrastructureProblem } from './infrastructure-errors.js';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Database, Media, UploaderType } from '../db/schema.js';
import type { MediaProbe, MediaTools } from '../media/media-probe.js';
import { cleanFilename } from '../media/filename.js';
import { MediaIntakeRefusal, type MediaIntakeCheck } from '../pipeline/media-intake.js';
import { describeNonMedia, sniffMedia } from '../media/media-sniffer.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobGateway } from '../storage/blob-gateway.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Logger } from 'pino';
import {
  AppError,
  mediaDimensionsTooLarge,
  mediaTruncated,
  mediaUndecodable,
  notFound,
  unprocessableMedia,
  unsupportedMedia,
} from './errors.js';
import { startAnalysis } from './analysis-start.js';
import { UploadInspector } from './upload-inspector.js';

export interface RegisteredMedia {
  id: string;
  sha256: string;
  sizeBytes: number;
  mimeType: string;
  originalFilename: string | null;
  analysisId: string;
  analysisStatus: string;
  createdAt: Date;
}

/** Bytes already encrypted under blobKey, with what was measured while they streamed in. */
export interface StoredUpload {
  orgId: string;
  mediaId: string;
  blobKey: string;
  sha256: string;
  sizeBytes: number;
  /** The first bytes, for magic-byte sniffing. */
  head: Buffer;
  filename: string | null;
  /** Who uploaded it (a person or an API key), shown in the history. */
  uploader?: Uploader | null;
}

export interface Uploader {
  type: UploaderType;
  id: string;
}

export interface MediaServiceDeps {
  db: Kysely<Database>;
  blobStore: BlobStore;
  blobGateway: BlobGateway;
  mediaTools: MediaTools;
  /** Integrity and limits check of the stored bytes (the same one the pipeline runs again). */
  intake: MediaIntakeCheck;
  media: MediaRepository;
  analyses: AnalysisRepository;
  queue: JobQueue;
  pipelineVersion: string;
  maxUploadBytes: number;
  log: Logger;
  /** Bumped after an upload commits (the media list changes); absent: nothing is cached (tests). */
  cache?: CacheInvalidation;
}

export function createMediaService(deps: MediaServiceDeps) {
  const { db, blobStore, media, analyses, queue, log } = deps;
  const cache = deps.cache ?? noCacheInvalidation;

  /** Validates stored bytes as media we can analyse; throws a 4xx AppError naming the reason. */
  async function inspectStored(
    blobKey: string,
    head: Buffer,
    sizeBytes: number,
  ): Promise<{ mimeType: string; probe: MediaProbe }> {
    if (sizeBytes === 0) throw new AppError(422, 'empty-file', 'Empty file', 'the upload contains no bytes');
    const sniffed = sniffMedia(head);
    if (!sniffed) {
      const what = describeNonMedia(head);
      throw unsupportedMedia(
        what
          ? `the file is ${what}, not video or image media`
          : 'the file type is not a recognised video or image format',
      );
    }
    if (sniffed.kind === 'audio')
      throw unsupportedMedia('audio-only files are not analysed; upload a video or image');
    const handle = await deps.blobGateway.open(blobKey);
    try {
      const { probe } = await deps.intake
        .check({ input: handle.url, sizeBytes, mediaTools: deps.mediaTools })
        .catch((error: unknown) => {
          throw error instanceof MediaIntakeRefusal ? refusalError(error) : error;
        });
      return { mimeType: sniffed.mime, probe };
    } finally {
      await handle.close();
    }
  }

  async function commitMedia(row: {
    orgId: string;
    mediaId: string;
    blobKey: string;
    sha256: string;
    sizeBytes: number;
    mimeType: string;
    filename: string | null;
    uploader?: Uploader | null;
    probe: MediaProbe;
  }) {
    return startAnalysis({ db, queue, log, cache }, async (trx) => {
      const created = await media.insert(trx, {
        id: row.mediaId,
        org_id: row.orgId,
        sha256: row.sha256,
        size_bytes: row.sizeBytes,
        mime_type: row.mimeType,
        original_filename: row.filename,
        blob_key: row.blobKey,
        status: 'stored',
        probe: JSON.stringify(row.probe),
        uploader_type: row.uploader?.type ?? null,
        uploader_id: row.uploader?.id ?? null,
      });
      const analysis = await analyses.createOrGet(trx, {
        orgId: row.orgId,
        mediaId: row.mediaId,
        pipelineVersion: deps.pipelineVersion,
      });
      return { created, analysis };
    });
  }

  return {
    /** Streams an upload: hash, size limit and encryption as bytes arrive; nothing is kept on failure. */
    async upload(input: {
      orgId: string;
      source: Readable;
      /** As the client sent it: stored cleaned (cleanFilename). */
      filename: string | null;
      uploader?: Uploader | null;
    }): Promise<RegisteredMedia> {
      const mediaId = randomUUID();
      const blobKey = `media-${mediaId}`;
      const inspector = new UploadInspector(deps.maxUploadBytes);
      input.source.on('error', (error) => inspector.destroy(error));
      try {
        // Redis known down: answer now, before storing and probing bytes that no job could analyse yet.
        if (!queue.reachable()) throw dependencyUnavailable();
        await blobStore.put(blobKey, input.source.pipe(inspector));
      } catch (error) {
        input.source.resume();
        // A full disk or an unreachable store is the server's problem (507/503), not an interrupted upload.
        throw error instanceof AppError
          ? error
          : (infrastructureProblem(error) ??
              new AppError(
                400,
                'upload-interrupted',
                'Upload interrupted',
                'the upload stream ended with an error',
              ));
      }
      return register({
        orgId: input.orgId,
        mediaId,
        blobKey,
        sha256: inspector.sha256,
        sizeBytes: inspector.sizeBytes,
        head: inspector.head,
        filename: cleanFilename(input.filename),
        uploader: input.uploader ?? null,
      });
    },

    /** Adopts bytes already stored under blobKey (a finished resumable upload). */
    adoptStored: (input: StoredUpload) => register({ ...input, filename: cleanFilename(input.filename) }),

    async get(orgId: string, id: string): Promise<Media> {
      const found = await media.findById(orgId, id);
      if (!found || found.status !== 'stored') throw notFound('media');
      return found;
    },
  };

  async function register(input: StoredUpload): Promise<RegisteredMedia> {
    try {
      const { mimeType, probe } = await inspectStored(input.blobKey, input.head, input.sizeBytes);
      const { created, analysis } = await commitMedia({ ...input, mimeType, probe });
      log.info({ mediaId: created.id, analysisId: analysis.id, sizeBytes: input.sizeBytes }, 'media stored');
      return {
        id: created.id,
        sha256: created.sha256,
        sizeBytes: created.size_bytes,
        mimeType: created.mime_type,
        originalFilename: created.original_filename,
        analysisId: analysis.id,
        analysisStatus: analysis.status,
        createdAt: created.created_at,
      };
    } catch (error) {
      await blobStore
        .delete(input.blobKey)
        .catch((cleanupError: unknown) =>
          log.error({ err: cleanupError, blobKey: input.blobKey }, 'could not delete rejected blob'),
        );
      throw error;
    }
  }
}

/** 422 problem with the intake check's stable code and reason. */
function refusalError(refusal: MediaIntakeRefusal): AppError {
  switch (refusal.code) {
    case 'media-truncated':
      return mediaTruncated(refusal.reason);
    case 'media-undecodable':
      return mediaUndecodable(refusal.reason);
    case 'media-dimensions-too-large':
      return mediaDimensionsTooLarge(refusal.reason);
    case 'media-unreadable':
      return unprocessableMedia(refusal.reason);
  }
}

export type MediaService = ReturnType<typeof createMediaService>;
