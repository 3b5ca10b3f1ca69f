import type { Logger } from 'pino';
import type { Analysis } from '../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import type { AnalysisReport } from '../pipeline/report.js';
import type { JobQueue } from '../queue/job-queue.js';
import { jobDefinitions, type JobContext, type JobPayloads } from '../queue/job-table.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { BlobGateway, BlobGatewayHandle } from '../storage/blob-gateway.js';
import { notFound } from './errors.js';

export interface AnalysisServiceDeps {
  analyses: AnalysisRepository;
  media: MediaRepository;
  blobGateway: BlobGateway;
  pipeline: AnalysisPipeline;
  queue: JobQueue;
  events: EventBus;
  now: () => Date;
  log: Logger;
}

// Progress writes are throttled: a report of every frame would hammer the database.
const progressStepFraction = 0.02;

export function createAnalysisService(deps: AnalysisServiceDeps) {
  const { analyses, events, log } = deps;

  async function publish(
    analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
    fields: { status: Analysis['status']; stage: string | null; progress: number; band?: string | null },
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

  return {
    async get(orgId: string, id: string): Promise<Analysis> {
      const found = await analyses.findById(orgId, id);
      if (!found) throw notFound('analysis');
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
      const mediaRow = await deps.media.findById(analysis.org_id, analysis.media_id);
      if (!mediaRow || mediaRow.status !== 'stored') {
        await analyses.fail(analysis.id, {
          code: 'media-missing',
          detail: 'the media was deleted before analysis',
        });
        await publish(analysis, { status: 'failed', stage: null, progress: 0 });
        return;
      }
      await publish(analysis, { status: 'running', stage: 'start', progress: 0 });
      let lastProgress = 0;
      let handle: BlobGatewayHandle | null = null;
      try {
        handle = await deps.blobGateway.open(mediaRow.blob_key);
        const report: AnalysisReport = await deps.pipeline.run({
          input: handle.url,
          sha256: mediaRow.sha256,
          sizeBytes: mediaRow.size_bytes,
          probe: mediaRow.probe as never,
          signal: context.signal,
          onProgress: async (stage, progress) => {
            if (progress - lastProgress < progressStepFraction && progress < 1) return;
            lastProgress = progress;
            await analyses.updateProgress(analysis.id, stage, progress);
            await context.reportProgress(Math.round(progress * 100));
            await publish(analysis, { status: 'running', stage, progress });
          },
        });
        const wrote = await analyses.complete(analysis.id, { band: report.band, report });
        if (wrote)
          await publish(analysis, { status: 'done', stage: 'report', progress: 1, band: report.band });
        jobLog.info({ band: report.band, wrote }, 'analysis finished');
      } catch (error) {
        const lastAttempt = context.attempt >= jobDefinitions['analysis.run'].attempts;
        jobLog.warn({ err: error, attempt: context.attempt, lastAttempt }, 'analysis attempt failed');
        if (lastAttempt && !context.signal.aborted) {
          await analyses.fail(analysis.id, { code: 'analysis-failed', detail: describeFailure(error) });
          await publish(analysis, { status: 'failed', stage: null, progress: lastProgress });
        }
        throw error;
      } finally {
        await handle?.close();
      }
    },

    /** Re-enqueues analyses that are queued or running without a live job (a crash between commit and enqueue, a lost worker). */
    async reconcile(staleAfterMs: number): Promise<number> {
      const stale = await analyses.findStale({
        olderThan: new Date(deps.now().getTime() - staleAfterMs),
        limit: 100,
      });
      let requeued = 0;
      for (const analysis of stale) {
        if (await deps.queue.isPending('analysis.run', analysis.id)) continue;
        await analyses.requeue(analysis.id);
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
