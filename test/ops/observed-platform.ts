import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startObservability, type Observability } from '../../src/app/observability.js';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { buildPlatformApp } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { JobHandlers } from '../../src/queue/job-table.js';
import { testLogger } from '../helpers/databases.js';

export interface ObservedPlatform {
  platform: Platform;
  app: FastifyInstance;
  observability: Observability;
  url: string;
  /** An analyst key of a fresh organisation. */
  key: string;
  /** What `guardian serve` does on SIGTERM, in its order: HTTP, workers, platform, then the flush. */
  stop(): Promise<void>;
}

/**
 * The serve composition (startObservability → openPlatform → buildPlatformApp → workers → listen) in this
 * process, on a temporary DATA_DIR: the same wiring as `guardian serve` without a child process to start.
 */
export async function startObservedPlatform(
  env: Record<string, string>,
  options: {
    log?: Logger;
    handlers?: (platform: Platform) => JobHandlers;
    beforeListen?: (app: FastifyInstance) => void;
  } = {},
): Promise<ObservedPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'guardian-observed-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', ...env });
  const log = options.log ?? testLogger();
  const observability = await startObservability(config, log, 'serve');
  const platform = await openPlatform(config, log, { observability });
  const app = await buildPlatformApp(platform);
  options.beforeListen?.(app);
  await platform.queue.startWorkers(options.handlers?.(platform) ?? platform.jobHandlers, {
    concurrency: 1,
    onJobExhausted: platform.jobExhaustedHandlers,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = address && typeof address !== 'string' ? address.port : 0;
  const org = await platform.services.organisationService.create(`Tracing ${port}`);
  const created = await platform.services.apiKeyService.create({
    orgName: org.name,
    name: 'tracing',
    role: 'analyst',
  });
  return {
    platform,
    app,
    observability,
    url: `http://127.0.0.1:${port}`,
    key: created.key,
    async stop() {
      await app.close();
      await platform.queue.stopWorkers(5_000);
      await platform.close();
      await observability.shutdown();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
