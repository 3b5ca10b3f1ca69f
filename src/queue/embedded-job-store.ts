import { randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Job } from '../db/schema.js';
import type { JobName } from './job-table.js';

/** One claim of a job row: (locked_by, attempts) tells this run apart from any later one. */
export interface JobClaim {
  row: Job;
  workerId: string;
}

export type JobOutcome =
  | { status: 'done' }
  | { status: 'failed'; error: string }
  | { status: 'waiting'; error: string; retryInMs: number };

const now = sql<Date>`now()`;
const fromNow = (ms: number) => sql<Date>`now() + ${ms} * interval '1 millisecond'`;
const liveStatuses = ['waiting', 'active'] as const;

/** The SQL of the embedded queue on the `jobs` table; times are the database's, so every process agrees. */
export class EmbeddedJobStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** A no-op while a job with this key is waiting or active. */
  async insert(
    executor: Executor,
    job: { name: JobName; key: string; payload: unknown; maxAttempts: number; delayMs?: number },
  ): Promise<void> {
    await executor
      .insertInto('jobs')
      .values({
        id: randomUUID(),
        name: job.name,
        dedupe_key: job.key,
        payload: JSON.stringify(job.payload),
        status: 'waiting',
        attempts: 0,
        max_attempts: job.maxAttempts,
        progress: 0,
        ...(job.delayMs ? { run_at: fromNow(job.delayMs) } : {}),
      })
      .onConflict((oc) => oc.columns(['name', 'dedupe_key']).where('status', 'in', liveStatuses).doNothing())
      .execute();
  }

  async isLive(name: JobName, key: string): Promise<boolean> {
    const live = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('name', '=', name)
      .where('dedupe_key', '=', key)
      .where('status', 'in', liveStatuses)
      .executeTakeFirst();
    return live !== undefined;
  }

  /** A due waiting job, or an active one whose lock lapsed (its worker died); the attempt is counted. */
  async claim(name: JobName, workerId: string, lockMs: number): Promise<JobClaim | undefined> {
    const row = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'active',
        attempts: eb('attempts', '+', 1),
        locked_by: workerId,
        locked_until: fromNow(lockMs),
        updated_at: now,
      }))
      .where('id', '=', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('name', '=', name)
          .where((due) =>
            due.or([
              due.and([due('status', '=', 'waiting'), due('run_at', '<=', now)]),
              due.and([due('status', '=', 'active'), due('locked_until', '<', now)]),
            ]),
          )
          .orderBy('run_at')
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .executeTakeFirst();
    return row && { row, workerId };
  }

  /** Live rows by name: due waiting, delayed and active counts, and how long the oldest due one has waited. */
  async backlog(): Promise<
    { name: string; waiting: number; delayed: number; active: number; oldest_seconds: number | null }[]
  > {
    const { rows } = await sql<{
      name: string;
      waiting: number | string;
      delayed: number | string;
      active: number | string;
      oldest_seconds: number | string | null;
    }>`
      select name,
        count(*) filter (where status = 'waiting' and run_at <= now()) as waiting,
        count(*) filter (where status = 'waiting' and run_at > now()) as delayed,
        count(*) filter (where status = 'active') as active,
        extract(epoch from now() - min(run_at) filter (where status = 'waiting' and run_at <= now()))
          as oldest_seconds
      from jobs where status in ('waiting', 'active') group by name`.execute(this.db);
    return rows.map((row) => ({
      name: row.name,
      waiting: Number(row.waiting),
      delayed: Number(row.delayed),
      active: Number(row.active),
      oldest_seconds: row.oldest_seconds === null ? null : Number(row.oldest_seconds),
    }));
  }

  /** Heartbeat; false when the claim is no longer ours (the lock lapsed and another worker took the job). */
  async extendLock(claim: JobClaim, lockMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ locked_until: fromNow(lockMs), updated_at: now })
      .where(owns(claim))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async saveProgress(claim: JobClaim, progress: number): Promise<void> {
    await this.db.updateTable('jobs').set({ progress }).where(owns(claim)).execute();
  }

  /** Releases the claim with its outcome; false (a no-op) when the claim is no longer ours. */
  async finish(claim: JobClaim, outcome: JobOutcome): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: outcome.status,
        last_error: outcome.status === 'done' ? null : outcome.error,
        ...(outcome.status === 'waiting' && { run_at: fromNow(outcome.retryInMs) }),
        locked_by: null,
        locked_until: null,
        updated_at: now,
      })
      .where(owns(claim))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Back to waiting, due now, without counting the attempt: the job did not fail, its worker left. */
  async handBack(claim: JobClaim): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'waiting',
        attempts: eb('attempts', '-', 1),
        locked_by: null,
        locked_until: null,
        run_at: now,
        updated_at: now,
      }))
      .where(owns(claim))
      .execute();
  }

  /**
   * Finished rows only matter for a while (debugging): done ones updated before `doneBefore` and failed ones
   * before `failedBefore` are deleted; live ones never. Returns how many went.
   */
  async pruneFinished(cutoffs: { doneBefore: Date; failedBefore: Date }): Promise<number> {
    const result = await this.db
      .deleteFrom('jobs')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'done'), eb('updated_at', '<', cutoffs.doneBefore)]),
          eb.and([eb('status', '=', 'failed'), eb('updated_at', '<', cutoffs.failedBefore)]),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('jobs').select('id').limit(1).execute();
  }
}

function owns(claim: JobClaim) {
  return (eb: ExpressionBuilder<Database, 'jobs'>) =>
    eb.and([
      eb('id', '=', claim.row.id),
      eb('status', '=', 'active'),
      eb('locked_by', '=', claim.workerId),
      eb('attempts', '=', claim.row.attempts),
    ]);
}
