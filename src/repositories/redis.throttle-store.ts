import type { Redis } from 'ioredis';
import type { ThrottleEntry, ThrottleStep, ThrottleStore } from './throttle-store.js';

const commandName = 'guardianThrottleCompareAndSet';

// Writes only when the key still holds what the step read ('' = absent): an optimistic, atomic update.
const compareAndSet = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`;

type CompareAndSet = (key: string, expected: string, next: string, ttlMs: number) => Promise<number>;

// Conflicts only come from concurrent writers of one key, and a refused attempt writes nothing.
const maxConflicts = 64;

/** Throttle state in Redis; a Lua compare-and-set makes each update atomic across processes. */
export function createRedisThrottleStore(deps: { redis: Redis; keyPrefix: string }): ThrottleStore {
  const { redis, keyPrefix } = deps;
  if (!(commandName in redis)) redis.defineCommand(commandName, { numberOfKeys: 1, lua: compareAndSet });
  const casCommand = (redis as unknown as Record<typeof commandName, CompareAndSet>)[commandName];
  const cas: CompareAndSet = (...args) => casCommand.apply(redis, args);

  return {
    async update<S, R>(
      key: string,
      now: number,
      step: (current: S | null) => ThrottleStep<S, R>,
    ): Promise<R> {
      const redisKey = keyPrefix + key;
      for (let conflict = 0; conflict < maxConflicts; conflict += 1) {
        const stored = (await redis.get(redisKey)) ?? '';
        const entry = stored === '' ? null : (JSON.parse(stored) as ThrottleEntry<S>);
        const current = entry && entry.expiresAt > now ? entry.state : null;
        const { next, result } = step(current);
        if (next === undefined || (next === null && stored === '')) return result;
        const serialized = next === null ? '' : JSON.stringify(next);
        // Redis expiry only collects garbage; validity is decided by expiresAt against the caller's clock.
        const ttlMs = next === null ? 0 : Math.max(1, Math.ceil(next.expiresAt - now));
        if ((await cas(redisKey, stored, serialized, ttlMs)) === 1) return result;
        if (conflict >= 4) await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      }
      throw new Error('throttle store: too many concurrent updates of one key');
    },
  };
}
