import type { Logger } from 'pino';

/** Resolves once SIGTERM or SIGINT arrives; a second signal forces exit. */
export function waitForShutdownSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down: draining');
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      resolve(signal);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

/** Runs a housekeeping task on an interval (failures are logged, never fatal); returns a stop function. */
export function startPeriodic(deps: {
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
  log: Logger;
}): () => void {
  const timer = setInterval(() => {
    deps
      .run()
      .catch((error: unknown) => deps.log.error({ err: error, task: deps.name }, 'periodic task failed'));
  }, deps.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Re-enqueues analyses nobody is working on; stale means untouched for two intervals (at least 30 s). */
export function startReconciler(deps: {
  reconcile(staleAfterMs: number): Promise<number>;
  intervalSeconds: number;
  log: Logger;
}): () => void {
  const intervalMs = deps.intervalSeconds * 1000;
  const staleAfterMs = Math.max(30_000, 2 * intervalMs);
  return startPeriodic({
    name: 'reconciler',
    intervalMs,
    run: () => deps.reconcile(staleAfterMs),
    log: deps.log,
  });
}
