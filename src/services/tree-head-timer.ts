import type { Logger } from 'pino';

/**
 * Runs the log's periodic work (older analyses without statements, a fresh tree head) every interval, one run
 * at a time; `stop` waits for a run in progress, so the database is never closed under it.
 */
export function startTreeHeadTimer(deps: { tick(): Promise<unknown>; intervalMs: number; log: Logger }): {
  stop(): Promise<void>;
} {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(() => {
      running = deps
        .tick()
        .then(
          () => undefined,
          (error: unknown) =>
            deps.log.error({ err: error, task: 'transparency-log' }, 'periodic task failed'),
        )
        .finally(() => {
          if (!stopped) schedule();
        });
    }, deps.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
