import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { CacheInvalidation } from '../cache/read-cache.js';
import type { Database } from '../db/schema.js';
import type { JobQueue } from '../queue/job-queue.js';
import { dependencyUnavailable } from './infrastructure-errors.js';

export interface AnalysisStartDeps {
  db: Kysely<Database>;
  queue: JobQueue;
  log: Logger;
  /** The organisation's cached media list shows the new analysis: bumped once the transaction commits. */
  cache: CacheInvalidation;
}

/**
 * Runs `work` (which creates a queued analysis) in a transaction and enqueues its `analysis.run` job: inside
 * the transaction for the embedded queue (its jobs are rows), after commit otherwise (a crash in between is
 * repaired by the reconciler, never by a phantom job). Uploads and re-runs share this path. While the queue is
 * known to be unreachable it answers 503 and stores nothing; if Redis fails between that check and the enqueue,
 * the enqueue fails fast and the committed analysis waits for the reconciler.
 */
export async function startAnalysis<T extends { analysis: { id: string; org_id: string } }>(
  deps: AnalysisStartDeps,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const { queue } = deps;
  // Redis known down: refuse before anything is stored, rather than accept work no queue can take yet.
  if (!queue.reachable()) throw dependencyUnavailable();
  const result = await deps.db.transaction().execute(async (trx) => {
    const created = await work(trx);
    if (queue.kind === 'embedded') {
      const { id, org_id: orgId } = created.analysis;
      await queue.enqueue('analysis.run', { analysisId: id, orgId }, { jobId: id, transaction: trx });
    }
    return created;
  });
  await deps.cache.invalidate(result.analysis.org_id);
  if (queue.kind !== 'embedded') {
    const { id, org_id: orgId } = result.analysis;
    await queue
      .enqueue('analysis.run', { analysisId: id, orgId }, { jobId: id })
      .catch((error: unknown) =>
        deps.log.warn({ err: error, analysisId: id }, 'enqueue failed; reconciler will retry'),
      );
  }
  return result;
}
