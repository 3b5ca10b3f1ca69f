import type { Logger } from 'pino';
import type { FeatureFlag } from './feature-flag.js';

/** Every flag, as of at most `ttlMs` ago (read-through), or as of the last local write. */
export interface FlagSource {
  flags(): Promise<ReadonlyMap<string, FeatureFlag>>;
  /** Forgets the snapshot: the next read loads again (called after this process changes a flag). */
  invalidate(): void;
}

export interface CachedFlagSourceDeps {
  load(): Promise<FeatureFlag[]>;
  /** How old a snapshot may be; 0 loads on every read. Bounds how long another process's change takes. */
  ttlMs: number;
  /** Monotonic milliseconds. */
  clock?: () => number;
  log: Logger;
}

/**
 * A whole-table snapshot read through with a TTL: flags are few, evaluations many, and every process (API
 * servers, workers) sees another's change within ttlMs without any message between them. One load at a time;
 * a failed load serves the previous snapshot (logged) rather than flipping every flag to its default.
 */
export function createCachedFlagSource(deps: CachedFlagSourceDeps): FlagSource {
  const clock = deps.clock ?? (() => performance.now());
  let snapshot: { flags: ReadonlyMap<string, FeatureFlag>; loadedAt: number } | null = null;
  let loading: Promise<ReadonlyMap<string, FeatureFlag>> | null = null;
  let generation = 0;

  const reload = () => {
    const started = clock();
    const startedGeneration = generation;
    const attempt = deps
      .load()
      .then((rows) => {
        const flags = new Map(rows.map((flag) => [flag.key, flag]));
        // A write (invalidate) during the load: its result may predate the write, so it is not kept.
        if (startedGeneration === generation) snapshot = { flags, loadedAt: started };
        return flags;
      })
      .catch((error: unknown) => {
        if (!snapshot) throw error;
        deps.log.warn({ err: error }, 'feature flags not reloaded; serving the previous snapshot');
        return snapshot.flags;
      })
      .finally(() => {
        if (loading === attempt) loading = null;
      });
    loading = attempt;
    return attempt;
  };

  return {
    async flags() {
      if (snapshot && clock() - snapshot.loadedAt < deps.ttlMs) return snapshot.flags;
      return loading ?? reload();
    },
    invalidate() {
      generation += 1;
      snapshot = null;
      loading = null;
    },
  };
}
