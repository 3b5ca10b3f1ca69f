import type { ReadCache } from './read-cache.js';

export interface MemoryReadCacheOptions {
  ttlMs: number;
  /** Least recently used replies go first beyond this many. */
  maxEntries: number;
  /** ... or beyond this many bytes of replies (UTF-8). */
  maxBytes: number;
  /** A larger reply is served but not kept. */
  maxEntryBytes: number;
  now?: () => number;
}

interface Entry {
  generation: number;
  body: string;
  bytes: number;
  expiresAt: number;
}

/**
 * The embedded mode's cache: one process holds the database, so a generation counter per organisation in
 * this process sees every write. A Map in insertion order is the LRU list (a hit moves its entry to the end).
 */
export function createMemoryReadCache(options: MemoryReadCacheOptions): ReadCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // One number per organisation that was ever written to: bounded by the organisations, never evicted
  // (a forgotten generation would restart at 0 and revive replies cached under it).
  const generations = new Map<string, number>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;

  const generationOf = (orgId: string) => generations.get(orgId) ?? 0;

  function remove(id: string, entry: Entry): void {
    entries.delete(id);
    bytes -= entry.bytes;
  }

  function keep(id: string, entry: Entry): void {
    const previous = entries.get(id);
    if (previous) remove(id, previous);
    entries.set(id, entry);
    bytes += entry.bytes;
    for (const [oldestId, oldest] of entries) {
      if (entries.size <= options.maxEntries && bytes <= options.maxBytes) break;
      remove(oldestId, oldest);
    }
  }

  return {
    kind: 'memory',
    async read(orgId, key, load) {
      // The organisation leads every key: two organisations never meet in one entry.
      const id = `${orgId}\u0000${key}`;
      const generation = generationOf(orgId);
      const entry = entries.get(id);
      if (entry) {
        if (entry.generation === generation && entry.expiresAt > now()) {
          entries.delete(id);
          entries.set(id, entry);
          hits += 1;
          return entry.body;
        }
        remove(id, entry);
      }
      misses += 1;
      const loaded = await load();
      // A write committed while this was loading: what was read may predate it, so it is not kept.
      if (!loaded.cacheable || generationOf(orgId) !== generation) return loaded.body;
      const size = Buffer.byteLength(loaded.body);
      if (size <= options.maxEntryBytes && size <= options.maxBytes)
        keep(id, { generation, body: loaded.body, bytes: size, expiresAt: now() + options.ttlMs });
      return loaded.body;
    },
    async invalidate(orgId) {
      generations.set(orgId, generationOf(orgId) + 1);
    },
    stats: () => ({ hits, misses, errors: 0, failedInvalidations: 0 }),
    async close() {
      entries.clear();
      bytes = 0;
    },
  };
}
