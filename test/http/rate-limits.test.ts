import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimits } from '../../src/http/rate-limits.js';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { describeEachImplementation } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

const trustedProxy = '10.0.0.1';

function get(app: FastifyInstance, url: string, from: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url, remoteAddress: from, headers });
}

/** An authenticated route every key role but auditor may read: 404 (unknown id) once authenticated. */
const mediaUrl = `/api/v1/media/${randomUUID()}`;

const remaining = (response: { headers: Record<string, unknown> }) =>
  Number(response.headers['x-ratelimit-remaining']);

describe('HTTP rate limits (in memory)', () => {
  let opened: PlatformApp;
  let keys: RoleKeys;
  let otherKeys: RoleKeys;

  beforeAll(async () => {
    opened = await openPlatformApp(
      { TRUSTED_PROXIES: trustedProxy },
      {
        beforeReady(app) {
          app.post('/api/v1/auth/rate-limit-probe', { config: { access: 'public' } }, async () => ({}));
        },
      },
    );
    keys = (await createOrganisationWithKeys(opened.platform, 'Limits')).keys;
    otherKeys = (await createOrganisationWithKeys(opened.platform, 'Other limits')).keys;
  });

  afterAll(() => opened?.close());

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const peer = '203.0.113.7';
    const first = await get(opened.app, '/livez', peer, { 'x-forwarded-for': '198.51.100.1' });
    expect(remaining(first)).toBe(rateLimits.global.max - 1);
    for (const forwarded of ['198.51.100.2', '198.51.100.3, 198.51.100.4', trustedProxy]) {
      const next = await get(opened.app, '/livez', peer, { 'x-forwarded-for': forwarded });
      expect(remaining(next), `X-Forwarded-For: ${forwarded}`).toBe(remaining(first) - 1);
      first.headers['x-ratelimit-remaining'] = next.headers['x-ratelimit-remaining'];
    }
    // Loopback is not trusted either unless configured.
    const local = await get(opened.app, '/livez', '127.0.0.2', { 'x-forwarded-for': '198.51.100.9' });
    const again = await get(opened.app, '/livez', '127.0.0.2', { 'x-forwarded-for': '198.51.100.10' });
    expect(remaining(again)).toBe(remaining(local) - 1);
  });

  it('keys by the forwarded client address when the peer is the trusted proxy', async () => {
    const clients = ['198.51.100.21', '198.51.100.22', '2001:db8:77::1'];
    for (const client of clients) {
      const response = await get(opened.app, '/livez', trustedProxy, { 'x-forwarded-for': client });
      expect(remaining(response), client).toBe(rateLimits.global.max - 1);
    }
    const repeat = await get(opened.app, '/livez', trustedProxy, { 'x-forwarded-for': clients[0] ?? '' });
    expect(remaining(repeat)).toBe(rateLimits.global.max - 2);
    // IPv6 clients share a counter per /64.
    const sameSubnet = await get(opened.app, '/livez', trustedProxy, { 'x-forwarded-for': '2001:db8:77::2' });
    expect(remaining(sameSubnet)).toBe(rateLimits.global.max - 2);
  });

  it('keys authenticated requests by principal, not by address', async () => {
    const address = '203.0.113.30';
    const admin = await get(opened.app, mediaUrl, address, bearer(keys.admin));
    const otherAdmin = await get(opened.app, mediaUrl, address, bearer(otherKeys.admin));
    expect([remaining(admin), remaining(otherAdmin)]).toEqual([
      rateLimits.global.max - 1,
      rateLimits.global.max - 1,
    ]);
    const elsewhere = await get(opened.app, mediaUrl, '203.0.113.31', bearer(keys.admin));
    expect(remaining(elsewhere)).toBe(rateLimits.global.max - 2);
  });

  it('applies the stricter limit to /api/v1/auth/* routes, answering 429 problem+json past it', async () => {
    const address = '203.0.113.40';
    const probe = () =>
      opened.app.inject({ method: 'POST', url: '/api/v1/auth/rate-limit-probe', remoteAddress: address });
    for (let request = 1; request <= rateLimits.auth.max; request += 1) {
      const response = await probe();
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers['x-ratelimit-limit'])).toBe(rateLimits.auth.max);
    }
    const refused = await probe();
    expectProblem(refused, 429, 'rate-limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(opened.app, '/livez', address)).statusCode, 'other routes keep their own count').toBe(
      200,
    );
  });

  it('gives every public auth route the stricter limit or a stricter one of its own (route table)', async () => {
    const authRoutes = opened.app.routeCatalog.filter(
      (route) => route.url.startsWith('/api/v1/auth/') && route.config.access === 'public',
    );
    expect(authRoutes.length).toBeGreaterThan(0);
    for (const route of authRoutes) {
      const response = await opened.app.inject({
        method: route.method as 'POST',
        url: route.url.replace(/:(\w+)/g, 'x'),
        remoteAddress: `203.0.113.${41 + authRoutes.indexOf(route)}`,
      });
      const limit = Number(response.headers['x-ratelimit-limit']);
      expect(limit, `${route.method} ${route.url}`).toBeGreaterThan(0);
      expect(limit, `${route.method} ${route.url}`).toBeLessThanOrEqual(rateLimits.auth.max);
    }
  });

  it('limits refused credentials per address before authenticating', async () => {
    const address = '203.0.113.60';
    const unknownKey = bearer(`sag_${randomBytes(32).toString('base64url')}`);
    for (let request = 1; request <= rateLimits.refusedCredentials.max; request += 1) {
      expect((await get(opened.app, mediaUrl, address, unknownKey)).statusCode).toBe(401);
    }
    expectProblem(await get(opened.app, mediaUrl, address, unknownKey), 429, 'rate-limited');
    const valid = await get(opened.app, mediaUrl, address, bearer(keys.admin));
    expectProblem(valid, 429, 'rate-limited');
    expect(Number(valid.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(opened.app, mediaUrl, '203.0.113.61', unknownKey)).statusCode).toBe(401);
    expect((await get(opened.app, '/livez', address)).statusCode, 'requests without credentials pass').toBe(
      200,
    );
  });

  it('does not count requests refused for their role', async () => {
    const address = '203.0.113.70';
    for (let request = 0; request <= rateLimits.refusedCredentials.max; request += 1) {
      expect((await get(opened.app, mediaUrl, address, bearer(keys.auditor))).statusCode).toBe(403);
    }
    expect((await get(opened.app, mediaUrl, address, bearer(keys.admin))).statusCode).toBe(404);
  });
});

describe('HTTP rate limits from configuration', () => {
  let opened: PlatformApp;
  let key: string;

  beforeAll(async () => {
    opened = await openPlatformApp({
      RATE_LIMIT_PER_MINUTE: '5000',
      AUTH_RATE_LIMIT_PER_MINUTE: '3',
      REFUSED_CREDENTIALS_PER_MINUTE: '2',
      LOGIN_ATTEMPTS_PER_IP: '2',
    });
    key = (await createOrganisationWithKeys(opened.platform, 'Configured limits')).keys.admin;
  });

  afterAll(() => opened?.close());

  it('uses RATE_LIMIT_PER_MINUTE, AUTH_RATE_LIMIT_PER_MINUTE, REFUSED_CREDENTIALS_PER_MINUTE, LOGIN_ATTEMPTS_PER_IP', async () => {
    const valid = await get(opened.app, mediaUrl, '203.0.113.80', bearer(key));
    expect(valid.statusCode).toBe(404);
    expect(Number(valid.headers['x-ratelimit-limit'])).toBe(5000);
    const login = (email: string) =>
      opened.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '203.0.113.81',
        payload: { email, password: 'not the password' },
      });
    const first = await login('nobody-1@example.com');
    expect(first.statusCode).toBe(401);
    expect(Number(first.headers['x-ratelimit-limit'])).toBe(3);
    expect((await login('nobody-2@example.com')).statusCode).toBe(401);
    expectProblem(await login('nobody-3@example.com'), 429, 'too-many-attempts');
    expectProblem(await login('nobody-4@example.com'), 429, 'rate-limited');
    const unknownKey = bearer(`sag_${randomBytes(32).toString('base64url')}`);
    for (let request = 1; request <= 2; request += 1) {
      expect((await get(opened.app, mediaUrl, '203.0.113.82', unknownKey)).statusCode).toBe(401);
    }
    expectProblem(await get(opened.app, mediaUrl, '203.0.113.82', unknownKey), 429, 'rate-limited');
  });
});

const redis = redisImplementation();

describeEachImplementation('HTTP rate limits shared through Redis', [redis], () => {
  const prefix = uniqueRedisPrefix('rate-limit');
  let first: PlatformApp;
  let second: PlatformApp;

  beforeAll(async () => {
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix };
    [first, second] = await Promise.all([openPlatformApp(env), openPlatformApp(env)]);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await deleteRedisKeys(redis.url, prefix);
  });

  it('counts one client across processes', async () => {
    const address = '203.0.113.80';
    expect(remaining(await get(first.app, '/livez', address))).toBe(rateLimits.global.max - 1);
    expect(remaining(await get(second.app, '/livez', address))).toBe(rateLimits.global.max - 2);
    expect(remaining(await get(first.app, '/livez', address))).toBe(rateLimits.global.max - 3);
  });
});
