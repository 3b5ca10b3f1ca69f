import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/config.schema.js';
import { startReconciler, waitForShutdownSignal } from './lifecycle.js';
import { createLogger } from './logger.js';
import { startPlatformMetrics } from './metrics-setup.js';
import { startObservability } from './observability.js';
import { openPlatform } from './platform.js';

/** `guardian worker`: analysis workers only, for scaled-out deployments sharing PostgreSQL (and Redis). */
export async function runWorker(config: Config): Promise<number> {
  const problems: string[] = [];
  if (!config.DATABASE_URL)
    problems.push(
      'DATABASE_URL: guardian worker needs it (the embedded database serves one process: use `guardian serve`)',
    );
  if (config.WORKER_CONCURRENCY < 1)
    problems.push('WORKER_CONCURRENCY: must be at least 1 for guardian worker');
  if (problems.length > 0) throw new ConfigError(problems);
  const log = createLogger(config).child({ role: 'worker' });
  const observability = await startObservability(config, log, 'worker');
  const platform = await openPlatform(config, log, { observability }).catch(async (error: unknown) => {
    await observability.shutdown();
    throw error;
  });
  const metricsServer = await startPlatformMetrics(platform, 'worker').catch(async (error: unknown) => {
    await platform.close();
    await observability.shutdown();
    throw error;
  });
  await platform.queue.startWorkers(platform.jobHandlers, {
    concurrency: config.WORKER_CONCURRENCY,
    onJobExhausted: platform.jobExhaustedHandlers,
  });
  const stopReconciler = startReconciler({
    reconcile: platform.services.analysisService.reconcile,
    intervalSeconds: config.RECONCILE_INTERVAL_SECONDS,
    log,
  });
  log.info(
    {
      queue: platform.queue.kind,
      concurrency: config.WORKER_CONCURRENCY,
      metrics: metricsServer?.url ?? 'off',
    },
    'worker started',
  );
  await waitForShutdownSignal(log);
  stopReconciler();
  await platform.queue.stopWorkers(config.SHUTDOWN_TIMEOUT_MS);
  await metricsServer?.close();
  await platform.close();
  await observability.shutdown();
  log.info('worker stopped');
  return 0;
}
