import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A command connection for request-time work: a command fails after one retry rather than wait for Redis. */
export function openRedisClient(url: string, log: Logger): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', (error) => log.warn({ err: error }, 'Redis connection error'));
  return client;
}

/** Fails at once while the connection is down (readiness must not wait for a reconnect attempt), else PING. */
export async function pingRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') throw new Error(`Redis connection is ${client.status}`);
  await client.ping();
}
