/** The abort reason a handler sees when its job ran past the job table's timeoutMs. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  constructor(jobName: string, timeoutMs: number) {
    super(`${jobName} timed out after ${timeoutMs} ms`);
  }
}

/** The abort reason on shutdown: the job goes back to the queue for another worker, attempt not counted. */
export class WorkerStoppingError extends Error {
  override readonly name = 'WorkerStoppingError';
  constructor() {
    super('worker stopping: the job is handed back to the queue');
  }
}

/** The abort reason when another worker took the job over (this worker's lock expired). */
export class JobLockLostError extends Error {
  override readonly name = 'JobLockLostError';
  constructor() {
    super('job lock lost: another worker owns this job now');
  }
}

/** Thrown by a handler when retrying cannot help (tampered input, attempts used up): the queue fails the job now. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The queue's own reason when a job's worker died during its last attempt (kill -9, OOM, lost host). */
export const workerLostMessage = 'worker lost during the final attempt';

const maxErrorLength = 2_000;

/** One bounded line for last_error and logs. */
export function describeJobError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, maxErrorLength);
}
