import type { Logger } from 'pino';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Analysis } from '../db/schema.js';
import type { AnalysisProgressEvent, EventBus } from '../events/event-bus.js';
import type { DetectorFlags } from '../flags/detector-flags.js';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import type { AnalysisReport } from '../pipeline/report.js';
import {
  JobLockLostError,
  JobTimeoutError,
  PermanentJobError,
  WorkerStoppingError,
} from '../queue/job-errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import { jobDefinitions, type JobContext, type JobExhaustion, type JobPayloads } from '../queue/job-table.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobGateway, BlobGatewayHandle } from '../storage/blob-gateway.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import type { AnalysisArtifactsService } from './analysis-artifacts.service.js';
import type { AuditLog } from './audit-log.js';
import type { Executor } from '../db/executor.js';
import { notFound } from './errors.js';
import type { ReportIntegrity } from './report-integrity.js';

export interface AnalysisServiceDeps {
  analyses: AnalysisRepository;
  media: MediaRepository;
  blobGateway: BlobGateway;
  pipeline: AnalysisPipeline;
  /** Where the artifacts detectors computed are stored, encrypted, beside the report. */
  artifacts: Pick<AnalysisArtifactsService, 'save' | 'discard'>;
  queue: JobQueue;
  events: EventBus;
  audit: AuditLog;
  /** Signs and logs each finished analysis's statement; absent, nothing is logged (analysis-only tests). */
  statements?: { record(analysisId: string): Promise<unknown> };
  /**
   * Writes an analysis's end together with the webhook events it raises (one transaction); absent, no
   * webhooks. `write` answers whether this call ended the analysis; only then are events recorded.
   */
  webhooks?: AnalysisEndWebhooks;
  /** Per-organisation feature flags choosing flag-gated detectors; absent, every detector runs. */
  detectorFlags?: DetectorFlags;
  now: () => Date;
  log: Logger;
  /**
   * Bumped on every status change (running, done, failed, queued again): the media list shows the status
   * and a finished report is cached. Progress writes change neither. Absent: nothing is cached (tests).
   */
  cache?: CacheInvalidation;
  /** Checks a finished report against its signed statement before it is served; absent: not checked (unit tests). */
  reportIntegrity?: Pick<ReportIntegrity, 'check'>;
}

export interface AnalysisEndWebhooks {
  completed(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    band: string,
    write: (executor: Executor) => Promise<boolean>,
  ): Promise<boolean>;
  failed(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    code: AnalysisFailureCode,
    write: (executor: Executor) => Promise<boolean>,
  ): Promise<boolean>;
}

/** `error.code` of a failed analysis: stable, part of the API. */
export type AnalysisFailureCode =
  | 'analysis-failed'
  | 'analysis-timeout'
  | 'worker-lost'
  | 'attempts-exhausted'
  | 'blob-integrity'
  | 'media-missing';

// Progress writes are throttled: a report of every frame would hammer the database.
const progressStepFraction = 0.02;
// Counted on the analysis row across jobs and queues, so a re-enqueued job never brings fresh attempts.
const maxAttempts = jobDefinitions['analysis.run'].attempts;

export function createAnalysisService(deps: AnalysisServiceDeps) {
  const { analyses, events, log } = deps;
  const cache = deps.cache ?? noCacheInvalidation;

  async function publish(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    fields: Pick<AnalysisProgressEvent, 'status' | 'stage' | 'progress'> &
      Partial<
        Pick<AnalysisProgressEvent, 'type' | 'band' | 'phase' | 'preliminary' | 'detectors' | 'pending'>
      >,
  ) {
    await events
      .publish({
        type:
          fields.status === 'done'
            ? 'analysis.done'
            : fields.status === 'failed'
              ? 'analysis.failed'
              : 'analysis.progress',
        orgId: analysis.org_id,
        analysisId: analysis.id,
        mediaId: analysis.media_id,
        ...fields,
        at: deps.now().toISOString(),
      })
      .catch((error: unknown) => log.warn({ err: error }, 'progress event not published'));
  }

  /** Ends a live analysis as failed; false (and nothing published) when it had already ended. */
  async function fail(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    failure: { code: AnalysisFailureCode; detail: string },
    progress = 0,
  ): Promise<boolean> {
    const wrote = deps.webhooks
      ? await deps.webhooks.failed(analysis, failure.code, (executor) =>
          analyses.fail(analysis.id, failure, executor),
        )
      : await analyses.fail(analysis.id, failure);
    if (!wrote) return false;
    await cache.invalidate(analysis.org_id);
    // An attempt may have stored artifacts and died before its report: a failed analysis keeps none.
    await deps.artifacts
      .discard(analysis.id)
      .catch((error: unknown) =>
        log.warn({ err: error, analysisId: analysis.id }, 'artifacts not discarded'),
      );
    await publish(analysis, { status: 'failed', stage: null, progress });
    return true;
  }

  /** Tampered or damaged ciphertext: permanent, a security event, and nothing read before it counts. */
  async function failOnIntegrity(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    error: BlobIntegrityError,
    progress: number,
  ): Promise<never> {
    const detail = 'the stored media failed authentication (tampered or damaged at rest); nothing was scored';
    if (await fail(analysis, { code: 'blob-integrity', detail }, progress)) {
      await deps.audit.append({
        orgId: analysis.org_id,
        actor: { type: 'system', id: null },
        action: 'analysis.integrity-failure',
        outcome: 'failure',
        target: { type: 'analysis', id: analysis.id },
        details: { mediaId: analysis.media_id, error: error.message },
      });
    }
    throw new PermanentJobError(error.message, { cause: error });
  }

  return {
    async get(orgId: string, id: string): Promise<Analysis> {
      const found = await analyses.findById(orgId, id);
      if (!found) throw notFound('analysis');
      await deps.reportIntegrity?.check(found);
      return found;
    },

    /** The `analysis.run` job handler. Idempotent: a second run of a finished analysis does nothing. */
    async run(payload: JobPayloads['analysis.run'], context: JobContext): Promise<void> {
      const jobLog = log.child({ jobId: context.jobId, analysisId: payload.analysisId });
      const analysis = await analyses.findByIdUnscoped(payload.analysisId);
      if (!analysis || analysis.org_id !== payload.orgId) {
        jobLog.warn('analysis for job not found; dropping job');
        return;
      }
      const running = await analyses.markRunning(analysis.id);
      if (!running) return;
      await cache.invalidate(analysis.org_id);
      if (running.attempts > maxAttempts) {
        // Its last attempt started and never ended: the worker died (kill -9, OOM). Running it again would too.
        const detail = `the worker stopped (crashed or was killed) during attempt ${maxAttempts} of ${maxAttempts}`;
        await fail(analysis, { code: 'worker-lost', detail });
        throw new PermanentJobError(detail);
      }
      const mediaRow = await deps.media.findById(analysis.org_id, analysis.media_id);
      if (!mediaRow || mediaRow.status !== 'stored') {
        await fail(analysis, { code: 'media-missing', detail: 'the media was deleted before analysis' });
        return;
      }
      await publish(analysis, { status: 'running', stage: 'start', progress: 0 });
      let lastProgress = 0;
      let handle: BlobGatewayHandle | null = null;
      // Held in memory until the report is written (the pipeline caps them per analysis).
      const artifacts = new Map<string, Buffer>();
      try {
        handle = await deps.blobGateway.open(mediaRow.blob_key);
        // Evaluated per analysis (not per process): a flag change reaches the next analysis without a restart.
        const detectorFlags = await deps.detectorFlags?.decide(analysis.org_id);
        const report: AnalysisReport = await deps.pipeline.run({
          input: handle.url,
          sha256: mediaRow.sha256,
          sizeBytes: mediaRow.size_bytes,
          probe: mediaRow.probe as never,
          // An integrity failure stops the pipeline at once: nothing it computes afterwards can be used.
          signal: AbortSignal.any([context.signal, handle.integritySignal]),
          onProgress: async (stage, progress, phase) => {
            // Every stage and detector reaches subscribers; the stored progress is written in steps.
            if (progress - lastProgress >= progressStepFraction || progress >= 1) {
              lastProgress = progress;
              await analyses.updateProgress(analysis.id, stage, progress);
              await context.reportProgress(Math.round(progress * 100));
            }
            await publish(analysis, { status: 'running', stage, progress, phase });
          },
          // Published, never stored: the analysis row and its report hold only the final band.
          onPreliminary: async (preliminary) =>
            publish(analysis, {
              type: 'analysis.preliminary',
              status: 'running',
              stage: 'preliminary',
              progress: lastProgress,
              preliminary: true,
              band: preliminary.band,
              detectors: preliminary.detectors,
              pending: preliminary.pending,
            }),
          onArtifact: (fullName, artifact) => void artifacts.set(fullName, artifact.data),
          ...(detectorFlags ? { detectorFlags } : {}),
        });
        // ffmpeg may take a cut connection for end of file and report on the bytes before it: never written.
        const tampered = handle.integrityFailure();
        if (tampered) throw tampered;
        // A run whose lock lapsed must not overwrite the artifacts of the run that now owns the analysis.
        if (context.signal.reason instanceof JobLockLostError) throw context.signal.reason;
        // Artifacts first, then the report: a crash between them leaves a blob the retry overwrites or the
        // final failure discards, never a report listing artifacts that were not stored.
        await deps.artifacts.save(analysis.id, report, artifacts);
        // The media deleted meanwhile: its deletion shreds artifacts once more after marking the row, so
        // either it saw these or this sees the row deleted.
        const media = await deps.media.findById(analysis.org_id, analysis.media_id);
        if (media?.status !== 'stored') await deps.artifacts.discard(analysis.id);
        const result = { band: report.band, report };
        const wrote = deps.webhooks
          ? await deps.webhooks.completed(analysis, report.band, (executor) =>
              analyses.complete(analysis.id, result, executor),
            )
          : await analyses.complete(analysis.id, result);
        if (wrote) {
          // Before the `analysis.done` event: a client that reads the report on it must not get the old one.
          await cache.invalidate(analysis.org_id);
          // The analysis stands without it: the log's timer records a statement missed here.
          await deps.statements
            ?.record(analysis.id)
            .catch((error: unknown) =>
              jobLog.error({ err: error }, 'statement not logged; the timer retries'),
            );
          await publish(analysis, { status: 'done', stage: 'report', progress: 1, band: report.band });
        }
        jobLog.info({ band: report.band, wrote }, 'analysis finished');
      } catch (error) {
        const tampered = handle?.integrityFailure() ?? (error instanceof BlobIntegrityError ? error : null);
        if (tampered) {
          jobLog.error({ err: tampered }, 'analysis failed: stored media failed authentication');
          await failOnIntegrity(analysis, tampered, lastProgress);
        }
        const abortReason: unknown = context.signal.aborted ? context.signal.reason : undefined;
        if (abortReason instanceof WorkerStoppingError) {
          // Handed back to the queue on shutdown: not a failure, so the attempt is given back too.
          await analyses.releaseAttempt(analysis.id);
          throw error;
        }
        // Another worker owns the job now (this one's lock lapsed): its run decides how the analysis ends.
        if (abortReason instanceof JobLockLostError) throw error;
        const lastAttempt = context.attempt >= maxAttempts || running.attempts >= maxAttempts;
        jobLog.warn({ err: error, attempt: running.attempts, lastAttempt }, 'analysis attempt failed');
        if (!lastAttempt) throw error;
        const failure =
          abortReason instanceof JobTimeoutError
            ? { code: 'analysis-timeout' as const, detail: abortReason.message }
            : { code: 'analysis-failed' as const, detail: describeFailure(error) };
        await fail(analysis, failure, lastProgress);
        // The analysis has used its attempts even when this job has some left (it was re-enqueued).
        if (context.attempt < maxAttempts) throw new PermanentJobError(failure.detail, { cause: error });
        throw error;
      } finally {
        await handle?.close();
      }
    },

    /** The queue gave up on an `analysis.run` job (stalled limit, worker lost on the last attempt): it ends. */
    async onJobExhausted(payload: JobPayloads['analysis.run'], exhaustion: JobExhaustion): Promise<void> {
      const analysis = await analyses.findByIdUnscoped(payload.analysisId);
      if (!analysis || analysis.org_id !== payload.orgId) return;
      const failure =
        exhaustion.cause === 'worker-lost'
          ? {
              code: 'worker-lost' as const,
              detail: `the worker stopped (crashed or was killed) during the last attempt: ${exhaustion.error}`,
            }
          : { code: 'analysis-failed' as const, detail: describeFailure(exhaustion.error) };
      if (await fail(analysis, failure))
        log.error({ analysisId: analysis.id, ...exhaustion }, 'analysis failed: its job ran out of attempts');
    },

    /**
     * Re-enqueues analyses that are queued or running without a live job (a crash between commit and
     * enqueue, a lost job); one that has used its attempts is failed instead, never revived.
     */
    async reconcile(staleAfterMs: number): Promise<number> {
      const stale = await analyses.findStale({
        olderThan: new Date(deps.now().getTime() - staleAfterMs),
        limit: 100,
      });
      let requeued = 0;
      for (const analysis of stale) {
        if (await deps.queue.isPending('analysis.run', analysis.id)) continue;
        if (analysis.attempts >= maxAttempts) {
          const detail = `${analysis.attempts} of ${maxAttempts} attempts used and none finished; not run again`;
          if (await fail(analysis, { code: 'attempts-exhausted', detail }))
            log.error(
              { analysisId: analysis.id, attempts: analysis.attempts },
              'reconciler failed an analysis',
            );
          continue;
        }
        if (await analyses.requeue(analysis.id)) await cache.invalidate(analysis.org_id);
        await deps.queue.enqueue(
          'analysis.run',
          { analysisId: analysis.id, orgId: analysis.org_id },
          { jobId: analysis.id },
        );
        requeued += 1;
      }
      if (requeued > 0) log.warn({ requeued }, 'reconciler re-enqueued stale analyses');
      return requeued;
    },
  };
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (
    message
      .replace(/https?:\/\/127\.0\.0\.1:\d+\/\S*/g, 'input')
      .split('\n')[0]
      ?.slice(0, 500) ?? 'unknown error'
  );
}

export type AnalysisService = ReturnType<typeof createAnalysisService>;
