import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import {
  createFeatureFlagRepository,
  type FeatureFlagRepository,
} from '../repositories/feature-flag.repository.js';
import { DatabaseFlagProvider } from './database-flag.provider.js';
import { createDetectorFlags, type DetectorFlags } from './detector-flags.js';
import { createCachedFlagSource, type FlagSource } from './flag-source.js';
import { openFlagClient, type FlagClient } from './open-feature-client.js';

export interface FeatureFlags {
  repository: FeatureFlagRepository;
  source: FlagSource;
  client: FlagClient;
  detectorFlags: DetectorFlags;
  close(): Promise<void>;
}

/** Flag tables -> cached snapshot -> provider -> OpenFeature client, one per process. */
export async function openFeatureFlags(deps: {
  db: Kysely<Database>;
  cacheMs: number;
  log: Logger;
}): Promise<FeatureFlags> {
  const repository = createFeatureFlagRepository({ db: deps.db });
  const source = createCachedFlagSource({
    load: () => repository.list(),
    ttlMs: deps.cacheMs,
    log: deps.log.child({ component: 'feature-flags' }),
  });
  const { client, close } = await openFlagClient(new DatabaseFlagProvider(source));
  return { repository, source, client, detectorFlags: createDetectorFlags({ client }), close };
}
