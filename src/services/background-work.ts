import type { Logger } from 'pino';

/** Work a request starts but does not wait for; failures are logged, and shutdown can wait for it. */
export interface BackgroundWork {
  run(task: string, work: () => Promise<unknown>): void;
  /** Resolves once nothing started so far is still running. */
  idle(): Promise<void>;
}

export function createBackgroundWork(deps: { log: Logger }): BackgroundWork {
  const running = new Set<Promise<unknown>>();
  return {
    run(task, work) {
      const promise = Promise.resolve()
        .then(work)
        .catch((error: unknown) => deps.log.error({ err: error, task }, 'background task failed'))
        .finally(() => running.delete(promise));
      running.add(promise);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
  };
}
