import { collectDefaultMetrics } from 'prom-client';
import { ConfigError } from '../config/config-error.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { registerScrapeGauges } from '../metrics/scrape-gauges.js';
import { createAnchorStatusRepository } from '../repositories/anchor-status.repository.js';
import type { Platform } from './platform.js';

/**
 * Adds the scrape-time gauges (queue, anchors, database connections, disk, process) to the platform's
 * registry and serves it on METRICS_HOST:METRICS_PORT; null when METRICS_PORT is `off`.
 */
export async function startPlatformMetrics(
  platform: Platform,
  role: 'serve' | 'worker',
): Promise<MetricsServer | null> {
  const { config, metrics } = platform;
  if (config.METRICS_PORT === 'off') return null;
  // Bound first: a taken port fails before anything is added to the registry.
  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      registry: metrics.registry,
      host: config.METRICS_HOST,
      port: config.METRICS_PORT,
      log: platform.log,
    });
  } catch (error) {
    // Most often serve and worker on one host with the same port: say which setting to change.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new ConfigError([
        `METRICS_PORT: ${config.METRICS_HOST}:${config.METRICS_PORT} is already in use (give each process on this host its own port, or \`off\`)`,
      ]);
    throw error;
  }
  collectDefaultMetrics({ register: metrics.registry });
  registerScrapeGauges(metrics.registry, metrics, {
    queue: platform.queue,
    database: platform.database,
    anchors: createAnchorStatusRepository({ db: platform.database.db }),
    dataDir: config.DATA_DIR,
    info: { role, database: platform.database.kind, queue: platform.queue.kind },
  });
  return server;
}
