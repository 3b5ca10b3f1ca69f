import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../services/errors.js';
import { redisRateLimitStore } from './rate-limit-store.js';

export interface RateLimitOptions {
  /**
   * Counters shared by every process of the deployment; absent: counted in this process's memory. While Redis
   * is down they are counted in this process's memory too: limits stay on (per process), requests keep going.
   */
  redis?: { client: Redis; keyPrefix: string };
  /** Requests a minute of each limit (RATE_LIMIT_PER_MINUTE and friends); absent ones keep `rateLimits`. */
  perMinute?: Partial<Record<keyof typeof rateLimits, number>>;
}

/** The defaults; each window is one minute. */
export const rateLimits = {
  /** Every route: per principal (API key or person) once authenticated, otherwise per client address. */
  global: { max: 600, timeWindow: 60_000 },
  /** Each route under /api/v1/auth/, per client address (the login throttle adds per-account limits). */
  auth: { max: 20, timeWindow: 60_000 },
  /** Requests that presented credentials and got 401, per client address; checked before authenticating. */
  refusedCredentials: { max: 60, timeWindow: 60_000 },
};

/** The client's address (IPv6: its /64); X-Forwarded-For counts only from TRUSTED_PROXIES (Fastify trustProxy). */
export function clientAddress(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

function rateLimitKey(request: FastifyRequest): string {
  const actor = request.principal?.actor;
  if (actor?.type === 'api-key') return `key:${actor.keyId}`;
  if (actor?.type === 'user') return `user:${actor.userId}`;
  return `ip:${clientAddress(request)}`;
}

const presentsCredentials = (request: FastifyRequest) =>
  request.headers.authorization !== undefined || request.headers.cookie !== undefined;

/**
 * Registers @fastify/rate-limit (Redis store when given) before access control. Its per-route hooks run after
 * authentication, so they can key by principal; requests refused with 401 never reach them and are limited
 * by the refused-credentials counter instead.
 */
export async function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const limit = (name: keyof typeof rateLimits) => ({
    ...rateLimits[name],
    max: options.perMinute?.[name] ?? rateLimits[name].max,
  });
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/auth/') || route.config?.rateLimit !== undefined) return;
    route.config = { ...route.config, rateLimit: limit('auth') };
  });
  await app.register(rateLimit, {
    global: true,
    ...limit('global'),
    keyGenerator: rateLimitKey,
    ...(options.redis
      ? {
          store: redisRateLimitStore(options.redis.client, `${options.redis.keyPrefix}:rate-limit:`, app.log),
        }
      : {}),
  });

  const refusedCredentials = app.createRateLimit({
    ...limit('refusedCredentials'),
    keyGenerator: (request) => `refused-credentials:${clientAddress(request)}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!presentsCredentials(request)) return;
    const state = await refusedCredentials(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return;
    reply.header('retry-after', state.ttlInSeconds);
    throw new AppError(
      429,
      'rate-limited',
      'Too many requests',
      'too many refused credentials from this address',
    );
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401 && presentsCredentials(request)) await refusedCredentials(request);
  });
}
