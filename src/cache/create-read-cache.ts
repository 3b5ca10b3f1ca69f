import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { createMemoryReadCache } from './memory.read-cache.js';
import { createUncachedReads, type ReadCache } from './read-cache.js';
import { createRedisReadCache } from './redis.read-cache.js';

export type ReadCacheSettings = Pick<
  Config,
  | 'CACHE_TTL_SECONDS'
  | 'CACHE_MAX_ENTRIES'
  | 'CACHE_MAX_BYTES'
  | 'CACHE_MAX_ENTRY_BYTES'
  | 'DATABASE_URL'
  | 'REDIS_KEY_PREFIX'
>;

/**
 * Redis when the deployment has one (every server and worker shares it), this process's memory in embedded
 * mode (the one process holding the database sees every write), and no cache for PostgreSQL without Redis:
 * there other processes (`guardian worker`, another server, the CLI) write where this one cannot see.
 */
export function createReadCache(settings: ReadCacheSettings, redis: Redis | null, log: Logger): ReadCache {
  if (settings.CACHE_TTL_SECONDS === 0) return createUncachedReads();
  const ttlMs = settings.CACHE_TTL_SECONDS * 1000;
  if (redis)
    return createRedisReadCache({
      redis,
      keyPrefix: settings.REDIS_KEY_PREFIX,
      ttlMs,
      maxEntryBytes: settings.CACHE_MAX_ENTRY_BYTES,
      log,
    });
  if (settings.DATABASE_URL) {
    log.info('read cache off: DATABASE_URL without REDIS_URL (set REDIS_URL to share one between processes)');
    return createUncachedReads();
  }
  return createMemoryReadCache({
    ttlMs,
    maxEntries: settings.CACHE_MAX_ENTRIES,
    maxBytes: settings.CACHE_MAX_BYTES,
    maxEntryBytes: settings.CACHE_MAX_ENTRY_BYTES,
  });
}
