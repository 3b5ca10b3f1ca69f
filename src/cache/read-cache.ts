/** A reply as a read produced it: the serialized body, and whether it may be kept (a final state). */
export interface LoadedReply {
  body: string;
  cacheable: boolean;
}

/** Counters since start: what the cache saved and what it could not do. */
export interface ReadCacheStats {
  hits: number;
  misses: number;
  /** Reads and writes that failed (Redis unreachable or slow): the read went to the database. */
  errors: number;
  /** Generation bumps that failed; retried until they land, the organisation read uncached meanwhile. */
  failedInvalidations: number;
}

/**
 * Hot replies of an organisation (a finished report, the first page of the media list), kept per
 * organisation generation: a write bumps the generation once, and every reply cached before it is never
 * served again (it expires on its own). Organisations never share an entry: the organisation is part of
 * every key.
 */
export interface ReadCache {
  readonly kind: 'memory' | 'redis' | 'off';
  /**
   * The reply cached under `key` in the organisation's current generation, else `load()`'s, kept when it is
   * cacheable. A cache that cannot be reached is skipped: the reply comes from `load` and nothing is kept.
   */
  read(orgId: string, key: string, load: () => Promise<LoadedReply>): Promise<string>;
  /** Everything cached for the organisation is stale from now on. Call after the write has committed. */
  invalidate(orgId: string): Promise<void>;
  stats(): ReadCacheStats;
  close(): Promise<void>;
}

/** What writers need: services bump the generation of the organisation they changed. */
export type CacheInvalidation = Pick<ReadCache, 'invalidate'>;

/** Reads without a cache: CACHE_TTL_SECONDS=0, or several processes without a Redis to share one. */
export function createUncachedReads(): ReadCache {
  let misses = 0;
  return {
    kind: 'off',
    async read(_orgId, _key, load) {
      misses += 1;
      return (await load()).body;
    },
    invalidate: async () => undefined,
    stats: () => ({ hits: 0, misses, errors: 0, failedInvalidations: 0 }),
    close: async () => undefined,
  };
}

/** For services built without a cache (tests, one-off tools): nothing to invalidate. */
export const noCacheInvalidation: CacheInvalidation = { invalidate: async () => undefined };
