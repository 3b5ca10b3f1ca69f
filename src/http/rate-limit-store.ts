import type { RateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

type Counted = Parameters<FastifyRateLimitStore['incr']>[1];
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0];
type Method = 'incr' | 'read';

// A counter that Redis does not answer within this long is counted here instead (a slow Redis is an outage).
const redisAnswerMs = 1_000;
// Fallback warnings: the first at once, then at most one per interval.
const warnIntervalMs = 10_000;

interface Fallback {
  redis: Redis;
  log: Pick<FastifyBaseLogger, 'warn'>;
  lastWarnAt: number;
}

/**
 * Counters in Redis (shared by every process) while it answers, in this process's memory while it does not:
 * during a Redis outage the limits stay on, per process, rather than failing every request or none.
 */
class RedisWithLocalFallback implements FastifyRateLimitStore {
  constructor(
    private readonly shared: FastifyRateLimitStore & Pick<RedisStore, 'read'>,
    private readonly local: FastifyRateLimitStore & Pick<LocalStore, 'read'>,
    private readonly fallback: Fallback,
  ) {}

  incr(key: string, callback: Counted, timeWindow: number, max: number): void {
    this.#count('incr', key, callback, timeWindow, max);
  }

  read(key: string, callback: Counted, timeWindow: number, max: number): void {
    this.#count('read', key, callback, timeWindow, max);
  }

  child(routeOptions: ChildOptions): FastifyRateLimitStore {
    return new RedisWithLocalFallback(
      this.shared.child(routeOptions) as RedisStore,
      this.local.child(routeOptions) as LocalStore,
      this.fallback,
    );
  }

  #count(method: Method, key: string, callback: Counted, timeWindow: number, max: number): void {
    const local = () => this.local[method](key, callback, timeWindow, max);
    // Disconnected: do not even try (ioredis would hold the command until its next reconnect attempt).
    if (this.fallback.redis.status !== 'ready') {
      this.#warn(new Error(`Redis connection is ${this.fallback.redis.status}`));
      local();
      return;
    }
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      this.#warn(new Error(`Redis did not answer within ${redisAnswerMs} ms`));
      local();
    }, redisAnswerMs);
    this.shared[method](
      key,
      (error, result) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (!error) return callback(null, result);
        this.#warn(error);
        local();
      },
      timeWindow,
      max,
    );
  }

  #warn(error: Error): void {
    const at = Date.now();
    if (at - this.fallback.lastWarnAt < warnIntervalMs) return;
    this.fallback.lastWarnAt = at;
    this.fallback.log.warn({ err: error }, 'rate limit counting in this process: Redis unavailable');
  }
}

/** The store constructor @fastify/rate-limit expects, over the given client and key namespace. */
export function redisRateLimitStore(
  redis: Redis,
  nameSpace: string,
  log: Pick<FastifyBaseLogger, 'warn'>,
): FastifyRateLimitStoreCtor {
  const fallback: Fallback = { redis, log, lastWarnAt: -Infinity };
  return class extends RedisWithLocalFallback {
    constructor(options: RateLimitOptions) {
      const continueExceeding = options.continueExceeding ?? false;
      const exponentialBackoff = options.exponentialBackoff ?? false;
      super(
        new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace),
        new LocalStore(continueExceeding, exponentialBackoff),
        fallback,
      );
    }
  };
}
