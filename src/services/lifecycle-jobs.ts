import type { Logger } from 'pino';
import type { JobQueue } from '../queue/job-queue.js';
import type { JobHandler } from '../queue/job-table.js';
import type { HousekeepingService } from './housekeeping.service.js';
import type { RetentionService } from './retention.service.js';

/**
 * The retention and housekeeping jobs on the platform's queue: a timer in every process queues both under a
 * fixed id (a job already waiting or running is not queued again), whichever worker is free runs them.
 */
export function createLifecycleJobs(deps: {
  retention: RetentionService;
  housekeeping: HousekeepingService;
  queue: Pick<JobQueue, 'enqueue'>;
  log: Logger;
}) {
  const log = deps.log.child({ component: 'lifecycle' });

  const retentionRun: JobHandler<'retention.run'> = async (_payload, context) => {
    const result = await deps.retention.run({ signal: context.signal });
    log.info({ ...result }, 'retention run finished');
    if (result.more) {
      // Its own id: the running job (perhaps itself a follow-up) still counts as live under its id.
      await deps.queue.enqueue(
        'retention.run',
        { trigger: 'follow-up' },
        { jobId: `follow-up:${Date.now()}` },
      );
    }
  };

  const housekeepingRun: JobHandler<'housekeeping.run'> = async () => {
    log.info({ ...(await deps.housekeeping.run()) }, 'housekeeping purged expired rows');
  };

  return {
    handlers: { 'retention.run': retentionRun, 'housekeeping.run': housekeepingRun },
    async tick(): Promise<void> {
      await deps.queue.enqueue('retention.run', { trigger: 'timer' }, { jobId: 'tick' });
      await deps.queue.enqueue('housekeeping.run', { trigger: 'timer' }, { jobId: 'tick' });
    },
  };
}

export type LifecycleJobs = ReturnType<typeof createLifecycleJobs>;
