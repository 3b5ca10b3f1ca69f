import type { Logger } from 'pino';
import type { EventBus } from './event-bus.js';
import { InMemoryEventBus } from './in-memory.event-bus.js';
import { RedisEventBus } from './redis.event-bus.js';

/** REDIS_URL set: pub/sub across processes; unset: in memory (one process serves and works). */
export function createEventBus(deps: { redisUrl?: string; redisKeyPrefix: string; log: Logger }): EventBus {
  const log = deps.log.child({ component: 'event-bus' });
  return deps.redisUrl
    ? new RedisEventBus({ redisUrl: deps.redisUrl, channelPrefix: `${deps.redisKeyPrefix}:`, log })
    : new InMemoryEventBus({ log });
}
