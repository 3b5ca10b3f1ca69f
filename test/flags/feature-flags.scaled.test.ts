import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { loadConfig } from '../../src/config/load-config.js';
import { openAccountApp, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';

// Scaled mode: two processes' platforms (an API server and a worker) over one PostgreSQL, no message between them.
const postgres = databaseImplementations().filter((implementation) => implementation.name === 'postgres');
const cacheMs = 300;

describeEachImplementation('feature flag changes across two platforms', postgres, (implementation) => {
  let server: AccountApp;
  let worker: Platform;

  beforeAll(async () => {
    const shared = {
      FEATURE_FLAG_CACHE_MS: String(cacheMs),
      ...(process.env.TEST_REDIS_URL
        ? {
            REDIS_URL: process.env.TEST_REDIS_URL,
            REDIS_KEY_PREFIX: `flags-${randomBytes(4).toString('hex')}`,
          }
        : {}),
    };
    server = await openAccountApp(implementation, shared);
    const { config } = server.platform;
    worker = await openPlatform(
      loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATA_DIR: config.DATA_DIR,
        DATABASE_URL: config.DATABASE_URL,
        WORKER_CONCURRENCY: '0',
        ...shared,
      }),
      testLogger(),
    );
  });

  afterAll(async () => {
    await worker?.close();
    await server?.close();
  });

  it(`a change on the server reaches the worker within FEATURE_FLAG_CACHE_MS (${cacheMs} ms) without a restart`, async () => {
    const org = await server.createOrg('Scaled');
    const decide = async () => (await worker.featureFlags.detectorFlags.decide(org.id))[0]!;
    expect(await decide()).toMatchObject({ enabled: true, errorCode: 'FLAG_NOT_FOUND' });

    const flags = server.platform.services.featureFlagService;
    const context = { actor: { type: 'cli' as const, id: null }, auditOrgId: null };
    await flags.create(
      {
        key: 'detector.c2pa-provenance',
        type: 'boolean',
        description: '',
        enabled: true,
        variants: { on: true, off: false },
        defaultVariant: 'on',
        rollout: null,
      },
      context,
    );
    const changedAt = performance.now();
    await flags.setOverride('detector.c2pa-provenance', org.id, 'off', context);
    // The server itself answers from the new state at once.
    expect((await server.platform.featureFlags.detectorFlags.decide(org.id))[0]).toMatchObject({
      enabled: false,
    });
    let seen = await decide();
    while (seen.enabled && performance.now() - changedAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await decide();
    }
    const elapsed = performance.now() - changedAt;
    console.info(
      `[flags] worker saw the override after ${elapsed.toFixed(0)} ms (bound ${cacheMs} ms + one load)`,
    );
    expect(seen).toMatchObject({ enabled: false, reason: 'TARGETING_MATCH' });
    // The bound plus slack for one snapshot load on a busy machine.
    expect(elapsed).toBeLessThan(cacheMs + 1500);
  });
});
