import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export interface RedisImplementation {
  name: 'redis';
  /** Set when TEST_REDIS_URL is missing; suites over Redis are then reported as skipped. */
  skipReason?: string;
  url: string;
}

export function redisImplementation(): RedisImplementation {
  const url = process.env.TEST_REDIS_URL;
  return url ? { name: 'redis', url } : { name: 'redis', url: '', skipReason: 'TEST_REDIS_URL is not set' };
}

/** A key prefix no other test (or test file running in parallel) uses. */
export function uniqueRedisPrefix(label: string): string {
  return `guardian-test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under the prefix (BullMQ queues, event channels leave none). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
