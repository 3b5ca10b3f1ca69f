import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ReadCache } from './read-cache.js';

export interface RedisReadCacheOptions {
  redis: Redis;
  /** REDIS_KEY_PREFIX: keys are `<prefix>:cache:{<orgId>}:…`. */
  keyPrefix: string;
  ttlMs: number;
  /** A larger reply is served but not kept. */
  maxEntryBytes: number;
  /** A cache command slower than this counts as an outage for that request (default 250 ms). */
  timeoutMs?: number;
  /** How often a generation bump that failed is tried again (default 1 s). */
  retryIntervalMs?: number;
  log: Logger;
}

// Outage warnings: the first at once, then at most one per interval (a request rate of them helps nobody).
const warnIntervalMs = 10_000;

/**
 * The scaled mode's cache, shared by every API server and worker of the deployment. Each organisation has
 * a generation (a random token, so a lost or evicted generation key can never bring old replies back); a
 * reply is stored with the generation it was read under and served only while that is still current. One
 * MGET reads both (the `{orgId}` hash tag keeps them in one cluster slot); a write is one SET of a new
 * generation, seen by every server at once. Old replies expire after the TTL.
 */
export function createRedisReadCache(options: RedisReadCacheOptions): ReadCache {
  const { redis, log } = options;
  const timeoutMs = options.timeoutMs ?? 250;
  const retryIntervalMs = options.retryIntervalMs ?? 1000;
  const counters = { hits: 0, misses: 0, errors: 0, failedInvalidations: 0 };
  // Organisations whose bump has not landed: read uncached here until it does (the write has committed).
  const pending = new Set<string>();
  let retryTimer: NodeJS.Timeout | null = null;
  let lastWarnAt = -Infinity;
  let suppressedWarnings = 0;

  const orgKey = (orgId: string) => `${options.keyPrefix}:cache:{${orgId}}`;
  const generationKey = (orgId: string) => `${orgKey(orgId)}:generation`;
  const replyKey = (orgId: string, key: string) => `${orgKey(orgId)}:reply:${key}`;
  const newGeneration = () => randomBytes(12).toString('hex');

  function warn(error: unknown, message: string): void {
    const at = Date.now();
    if (at - lastWarnAt < warnIntervalMs) {
      suppressedWarnings += 1;
      return;
    }
    lastWarnAt = at;
    log.warn({ err: error, suppressedSinceLast: suppressedWarnings }, message);
    suppressedWarnings = 0;
  }

  async function bump(orgId: string): Promise<void> {
    await withTimeout(redis.set(generationKey(orgId), newGeneration()), timeoutMs);
    pending.delete(orgId);
  }

  function scheduleRetry(): void {
    if (retryTimer) return;
    retryTimer = setInterval(() => {
      for (const orgId of pending) bump(orgId).catch(() => undefined);
      if (pending.size === 0 && retryTimer) {
        clearInterval(retryTimer);
        retryTimer = null;
      }
    }, retryIntervalMs);
    retryTimer.unref();
  }

  /** The generation to store a fresh reply under; null: do not store (another reader is creating it). */
  async function currentOrNew(orgId: string, current: string | null): Promise<string | null> {
    if (current !== null) return current;
    const created = newGeneration();
    const set = await withTimeout(redis.set(generationKey(orgId), created, 'NX'), timeoutMs);
    return set === 'OK' ? created : null;
  }

  return {
    kind: 'redis',
    async read(orgId, key, load) {
      if (pending.has(orgId)) {
        counters.misses += 1;
        return (await load()).body;
      }
      let generation: string | null;
      try {
        const [current, cached] = await withTimeout(
          redis.mget(generationKey(orgId), replyKey(orgId, key)),
          timeoutMs,
        );
        if (current != null && cached != null && cached.startsWith(`${current}\n`)) {
          counters.hits += 1;
          return cached.slice(current.length + 1);
        }
        generation = await currentOrNew(orgId, current ?? null);
      } catch (error) {
        counters.errors += 1;
        warn(error, 'read cache unavailable: reading from the database, uncached');
        return (await load()).body;
      }
      counters.misses += 1;
      const loaded = await load();
      if (!loaded.cacheable || generation === null || pending.has(orgId)) return loaded.body;
      if (Buffer.byteLength(loaded.body) > options.maxEntryBytes) return loaded.body;
      try {
        await withTimeout(
          redis.set(replyKey(orgId, key), `${generation}\n${loaded.body}`, 'PX', options.ttlMs),
          timeoutMs,
        );
      } catch (error) {
        counters.errors += 1;
        warn(error, 'read cache unavailable: reply not stored');
      }
      return loaded.body;
    },

    async invalidate(orgId) {
      try {
        await bump(orgId);
      } catch (error) {
        // The write has committed: never fail it. Until a bump lands this process reads uncached, and
        // another server may serve a reply cached before the write for at most the TTL.
        pending.add(orgId);
        counters.failedInvalidations += 1;
        log.warn(
          { err: error, orgId },
          'read cache invalidation failed: retrying; reads here uncached meanwhile',
        );
        scheduleRetry();
      }
    },

    stats: () => ({ ...counters }),

    async close() {
      if (retryTimer) clearInterval(retryTimer);
      retryTimer = null;
    },
  };
}

/** Rejects after ms; the command itself may still complete later (harmless: replies carry their generation). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
