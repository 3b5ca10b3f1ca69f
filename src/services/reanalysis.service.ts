import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Analysis, Database } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import { startAnalysis } from './analysis-start.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf } from './user.service.js';

export interface ReanalysisServiceDeps {
  db: Kysely<Database>;
  media: MediaRepository;
  analyses: AnalysisRepository;
  queue: JobQueue;
  audit: AuditLogService;
  /** The pipeline this process runs: a re-run always uses it. */
  pipelineVersion: string;
  log: Logger;
  /** Bumped after the re-run commits (the media list shows the new analysis); absent: nothing is cached. */
  cache?: CacheInvalidation;
}

/** 409 while the media has an analysis queued or running: a second one would only race it. */
export const analysisInProgress = (analysisId: string) =>
  new AppError(
    409,
    'analysis-in-progress',
    'Analysis already in progress',
    'this media has an analysis queued or running; wait for it to finish before running another',
    { analysisId },
  );

/** Re-running the analysis of stored media with the current pipeline: a new analysis, the old ones kept. */
export function createReanalysisService(deps: ReanalysisServiceDeps) {
  return {
    async rerun(principal: Principal, mediaId: string, client: ClientInfo): Promise<Analysis> {
      const start = { ...deps, cache: deps.cache ?? noCacheInvalidation };
      const { analysis } = await startAnalysis(start, async (trx) => {
        // The media row lock serialises concurrent re-runs: the second sees the first one's queued analysis.
        const media = await deps.media.lockStored(trx, principal.orgId, mediaId);
        if (!media) throw notFound('media');
        const live = await deps.analyses.findLiveForMedia(trx, principal.orgId, mediaId);
        if (live) throw analysisInProgress(live.id);
        const created = await deps.analyses.createRun(trx, {
          orgId: principal.orgId,
          mediaId,
          pipelineVersion: deps.pipelineVersion,
        });
        await deps.audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'analysis.rerun',
            outcome: 'success',
            target: { type: 'analysis', id: created.id },
            ip: client.ip,
            userAgent: client.userAgent,
            details: { mediaId, pipelineVersion: created.pipeline_version, run: created.run },
          },
          trx,
        );
        return { analysis: created };
      });
      deps.log.info({ mediaId, analysisId: analysis.id, run: analysis.run }, 'analysis re-run queued');
      return analysis;
    },
  };
}

export type ReanalysisService = ReturnType<typeof createReanalysisService>;
