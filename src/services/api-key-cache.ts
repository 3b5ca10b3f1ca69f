import type { Principal } from '../http/access-control.js';

export interface ApiKeyCacheOptions {
  /** How long a key checked in the database is trusted without asking again; 0: never cached. */
  ttlMs: number;
  /** Least recently used keys go first beyond this many. */
  maxEntries: number;
  now?: () => number;
}

/** A kept check; `lastUsedAt` is the caller's to move when it moves the key's last_used_at. */
export interface CachedKey {
  principal: Principal;
  keyId: string;
  /** When the key's last_used_at was last moved (ms), as far as this server knows. */
  lastUsedAt: number | null;
  /** When the cached check lapses: the TTL, or the key's own expiry if sooner. */
  validUntil: number;
}

/**
 * Usable API keys by the SHA-256 of the token, so a hot read does not ask the database who is calling on every
 * request. Only usable keys are kept (an unknown or revoked token is checked every time), never past the key's
 * expiry; `forget` drops a revoked key at once. A Map in insertion order is the LRU list.
 */
export interface ApiKeyCache {
  get(keyHash: string): CachedKey | null;
  set(
    keyHash: string,
    entry: { principal: Principal; keyId: string; expiresAt: Date | null; lastUsedAt: number | null },
  ): void;
  forget(keyId: string): void;
}

export function createApiKeyCache(options: ApiKeyCacheOptions): ApiKeyCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, CachedKey>();
  return {
    get(keyHash) {
      const entry = entries.get(keyHash);
      if (!entry) return null;
      entries.delete(keyHash);
      if (entry.validUntil <= now()) return null;
      entries.set(keyHash, entry);
      return entry;
    },
    set(keyHash, { principal, keyId, expiresAt, lastUsedAt }) {
      if (options.ttlMs <= 0 || options.maxEntries <= 0) return;
      const validUntil = Math.min(now() + options.ttlMs, expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
      entries.delete(keyHash);
      entries.set(keyHash, { principal, keyId, lastUsedAt, validUntil });
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!);
    },
    forget(keyId) {
      for (const [keyHash, entry] of entries) if (entry.keyId === keyId) entries.delete(keyHash);
    },
  };
}

/** No cache: every request asks the database (tools, tests, API_KEY_CACHE_SECONDS=0). */
export const noApiKeyCache: ApiKeyCache = { get: () => null, set: () => undefined, forget: () => undefined };
