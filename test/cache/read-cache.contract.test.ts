import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisClient } from '../../src/app/redis-client.js';
import { createMemoryReadCache } from '../../src/cache/memory.read-cache.js';
import type { LoadedReply, ReadCache } from '../../src/cache/read-cache.js';
import { createRedisReadCache } from '../../src/cache/redis.read-cache.js';
import { describeEachImplementation, testLogger } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

const ttlMs = 60_000;
const maxEntryBytes = 1024;

/** A loader that counts its calls and returns what `next` says. */
function loader(body: string, cacheable = true) {
  const state = { calls: 0, body, cacheable };
  const load = async (): Promise<LoadedReply> => {
    state.calls += 1;
    return { body: state.body, cacheable: state.cacheable };
  };
  return Object.assign(state, { load });
}

interface CacheImplementation {
  name: string;
  skipReason?: string;
  /** Two handles on one cache (two API servers); for the in-process cache, the same handle twice. */
  open(): Promise<{ first: ReadCache; second: ReadCache; close(): Promise<void> }>;
}

const redis = redisImplementation();
const prefix = uniqueRedisPrefix('read-cache');
const redisClients: Redis[] = [];

const implementations: CacheImplementation[] = [
  {
    name: 'memory',
    async open() {
      const cache = createMemoryReadCache({ ttlMs, maxEntries: 100, maxBytes: 1 << 20, maxEntryBytes });
      return { first: cache, second: cache, close: () => cache.close() };
    },
  },
  {
    name: 'redis',
    ...(redis.skipReason ? { skipReason: redis.skipReason } : {}),
    async open() {
      const servers = [0, 1].map(() => {
        const client = openRedisClient(redis.url, testLogger());
        redisClients.push(client);
        return createRedisReadCache({
          redis: client,
          keyPrefix: prefix,
          ttlMs,
          maxEntryBytes,
          log: testLogger(),
        });
      });
      return {
        first: servers[0]!,
        second: servers[1]!,
        close: async () => void (await Promise.all(servers.map((server) => server.close()))),
      };
    },
  },
];

afterAll(async () => {
  await Promise.all(redisClients.map((client) => client.quit()));
  if (!redis.skipReason) await deleteRedisKeys(redis.url, prefix);
});

describeEachImplementation('read cache contract', implementations, (implementation) => {
  let first: ReadCache;
  let second: ReadCache;
  let close: () => Promise<void>;
  beforeAll(async () => ({ first, second, close } = await implementation.open()));
  afterAll(() => close());

  it('serves the loaded reply again, byte for byte, without loading twice', async () => {
    const orgId = randomUUID();
    const report = loader('{"status":"done","band":"inconclusive","é":"ü"}');
    const before = first.stats().hits;
    expect(await first.read(orgId, 'analysis:1', report.load)).toBe(report.body);
    expect(await second.read(orgId, 'analysis:1', report.load)).toBe(report.body);
    expect(report.calls).toBe(1);
    expect(first.stats().hits + (first === second ? 0 : second.stats().hits)).toBeGreaterThan(before);
  });

  it('reloads after the organisation is invalidated, on every handle', async () => {
    const orgId = randomUUID();
    const list = loader('{"items":[]}');
    await first.read(orgId, 'media:first-page:25', list.load);
    await second.read(orgId, 'media:first-page:25', list.load);
    expect(list.calls).toBe(1);
    list.body = '{"items":[{"id":"new"}]}';
    await first.invalidate(orgId);
    expect(await second.read(orgId, 'media:first-page:25', list.load)).toBe(list.body);
    expect(await first.read(orgId, 'media:first-page:25', list.load)).toBe(list.body);
    expect(list.calls).toBe(2);
  });

  it('keeps organisations apart: same key, separate replies, separate invalidation', async () => {
    const orgA = randomUUID();
    const orgB = randomUUID();
    const a = loader('{"org":"A"}');
    const b = loader('{"org":"B"}');
    expect(await first.read(orgA, 'media:first-page:25', a.load)).toBe(a.body);
    expect(await first.read(orgB, 'media:first-page:25', b.load)).toBe(b.body);
    expect(await second.read(orgB, 'media:first-page:25', a.load)).toBe(b.body);
    await first.invalidate(orgA);
    expect(await second.read(orgB, 'media:first-page:25', b.load)).toBe(b.body);
    expect(b.calls).toBe(1);
    await second.read(orgA, 'media:first-page:25', a.load);
    expect(a.calls).toBe(2);
  });

  it('never keeps a reply marked not cacheable (a live analysis)', async () => {
    const orgId = randomUUID();
    const running = loader('{"status":"running"}', false);
    await first.read(orgId, 'analysis:2', running.load);
    await second.read(orgId, 'analysis:2', running.load);
    expect(running.calls).toBe(2);
  });

  it('does not keep what was read while a write committed (its generation moved on)', async () => {
    const orgId = randomUUID();
    let calls = 0;
    const racing = async (): Promise<LoadedReply> => {
      calls += 1;
      // The write commits and bumps the generation after this read saw the old rows.
      if (calls === 1) await second.invalidate(orgId);
      return { body: calls === 1 ? '{"old":true}' : '{"new":true}', cacheable: true };
    };
    expect(await first.read(orgId, 'analysis:3', racing)).toBe('{"old":true}');
    expect(await first.read(orgId, 'analysis:3', racing)).toBe('{"new":true}');
    expect(await second.read(orgId, 'analysis:3', racing)).toBe('{"new":true}');
    expect(calls).toBe(2);
  });

  it('serves but does not keep a reply over the entry size limit', async () => {
    const orgId = randomUUID();
    const big = loader(`"${'x'.repeat(maxEntryBytes)}"`);
    expect(await first.read(orgId, 'analysis:4', big.load)).toBe(big.body);
    await first.read(orgId, 'analysis:4', big.load);
    expect(big.calls).toBe(2);
  });

  it('lets a loader error through and caches nothing (a 404 stays a 404)', async () => {
    const orgId = randomUUID();
    const missing = async (): Promise<LoadedReply> => {
      throw new Error('analysis not found');
    };
    await expect(first.read(orgId, 'analysis:5', missing)).rejects.toThrow('analysis not found');
    const found = loader('{"found":true}');
    expect(await first.read(orgId, 'analysis:5', found.load)).toBe(found.body);
  });
});

describe('in-process cache bounds', () => {
  it('evicts the least recently used beyond max entries', async () => {
    const cache = createMemoryReadCache({ ttlMs, maxEntries: 2, maxBytes: 1 << 20, maxEntryBytes });
    const orgId = randomUUID();
    const replies = ['a', 'b', 'c'].map((name) => loader(`"${name}"`));
    await cache.read(orgId, 'a', replies[0]!.load);
    await cache.read(orgId, 'b', replies[1]!.load);
    await cache.read(orgId, 'a', replies[0]!.load); // a is now the most recent
    await cache.read(orgId, 'c', replies[2]!.load); // evicts b
    await cache.read(orgId, 'a', replies[0]!.load);
    await cache.read(orgId, 'b', replies[1]!.load);
    expect(replies.map((reply) => reply.calls)).toEqual([1, 2, 1]);
  });

  it('evicts beyond max bytes', async () => {
    const cache = createMemoryReadCache({ ttlMs, maxEntries: 100, maxBytes: 250, maxEntryBytes: 200 });
    const orgId = randomUUID();
    const one = loader(`"${'1'.repeat(98)}"`);
    const two = loader(`"${'2'.repeat(98)}"`);
    const three = loader(`"${'3'.repeat(98)}"`);
    for (const reply of [one, two, three, one]) await cache.read(orgId, reply.body, reply.load);
    expect([one.calls, two.calls, three.calls]).toEqual([2, 1, 1]);
  });

  it('expires after the TTL', async () => {
    let clock = 1_000;
    const cache = createMemoryReadCache({
      ttlMs: 500,
      maxEntries: 10,
      maxBytes: 1 << 20,
      maxEntryBytes,
      now: () => clock,
    });
    const orgId = randomUUID();
    const reply = loader('"r"');
    await cache.read(orgId, 'k', reply.load);
    clock += 499;
    await cache.read(orgId, 'k', reply.load);
    clock += 1;
    await cache.read(orgId, 'k', reply.load);
    expect(reply.calls).toBe(2);
  });
});

describe.skipIf(redis.skipReason !== undefined)('Redis cache: expiry and outages', () => {
  it('expires replies after the TTL', async () => {
    const client = openRedisClient(redis.url, testLogger());
    const cache = createRedisReadCache({
      redis: client,
      keyPrefix: prefix,
      ttlMs: 100,
      maxEntryBytes,
      log: testLogger(),
    });
    try {
      const orgId = randomUUID();
      const reply = loader('"r"');
      await cache.read(orgId, 'k', reply.load);
      await cache.read(orgId, 'k', reply.load);
      expect(reply.calls).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await cache.read(orgId, 'k', reply.load);
      expect(reply.calls).toBe(2);
    } finally {
      await client.quit();
    }
  });

  it('never revives old replies when the generation key is lost (eviction, flush)', async () => {
    const client = openRedisClient(redis.url, testLogger());
    const cache = createRedisReadCache({
      redis: client,
      keyPrefix: prefix,
      ttlMs,
      maxEntryBytes,
      log: testLogger(),
    });
    try {
      const orgId = randomUUID();
      const reply = loader('"old"');
      await cache.read(orgId, 'k', reply.load);
      await client.del(`${prefix}:cache:{${orgId}}:generation`);
      reply.body = '"new"';
      expect(await cache.read(orgId, 'k', reply.load)).toBe('"new"');
    } finally {
      await client.quit();
    }
  });

  it('reads through to the loader, with a warning, when Redis cannot be reached', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    // Nothing listens on port 1: every command fails.
    const dead = openRedisClient('redis://127.0.0.1:1', testLogger());
    const cache = createRedisReadCache({ redis: dead, keyPrefix: prefix, ttlMs, maxEntryBytes, log });
    try {
      const orgId = randomUUID();
      const reply = loader('"fresh"');
      const started = performance.now();
      expect(await cache.read(orgId, 'k', reply.load)).toBe('"fresh"');
      reply.body = '"fresher"';
      expect(await cache.read(orgId, 'k', reply.load)).toBe('"fresher"');
      await cache.invalidate(orgId); // must not throw: the write it follows has committed
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(reply.calls).toBe(2);
      expect(cache.stats()).toMatchObject({ hits: 0, errors: 2, failedInvalidations: 1 });
      expect(lines.join('')).toContain('read cache unavailable');
    } finally {
      await cache.close();
      dead.disconnect();
    }
  });

  it('after a failed invalidation reads uncached here, and the retried bump reaches the other servers', async () => {
    const client = openRedisClient(redis.url, testLogger());
    const otherClient = openRedisClient(redis.url, testLogger());
    let failSets = false;
    // Only generation bumps fail: the partition this server alone sees.
    const flaky = {
      mget: (...keys: string[]) => client.mget(...keys),
      set: (...args: Parameters<Redis['set']>) =>
        failSets && String(args[0]).endsWith(':generation') && args.length === 2
          ? Promise.reject(new Error('injected: Redis unreachable'))
          : (client.set as (...a: unknown[]) => Promise<unknown>)(...args),
    } as unknown as Redis;
    const writer = createRedisReadCache({
      redis: flaky,
      keyPrefix: prefix,
      ttlMs,
      maxEntryBytes,
      log: testLogger(),
      retryIntervalMs: 50,
    });
    const other = createRedisReadCache({
      redis: otherClient,
      keyPrefix: prefix,
      ttlMs,
      maxEntryBytes,
      log: testLogger(),
    });
    try {
      const orgId = randomUUID();
      const reply = loader('"before"');
      await other.read(orgId, 'k', reply.load);
      failSets = true;
      reply.body = '"after"';
      await writer.invalidate(orgId);
      expect(writer.stats().failedInvalidations).toBe(1);
      // This server knows its bump is missing: it reads the database.
      expect(await writer.read(orgId, 'k', reply.load)).toBe('"after"');
      failSets = false;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await other.read(orgId, 'k', reply.load)).toBe('"after"');
    } finally {
      await writer.close();
      await other.close();
      await client.quit();
      await otherClient.quit();
    }
  });
});
