import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createDatabaseThrottleStore } from '../../src/repositories/database.throttle-store.js';
import { createRedisThrottleStore } from '../../src/repositories/redis.throttle-store.js';
import type { ThrottleStore } from '../../src/repositories/throttle-store.js';
import type { LoginThrottle, ThrottleDecision } from '../../src/services/login-throttle.js';
import { createLoginThrottle } from '../../src/services/login-throttle.service.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

interface StoreImplementation {
  name: string;
  skipReason?: string;
  /** A fresh store and what removes it. */
  open(): Promise<{ store: ThrottleStore; keys(): Promise<string[]>; close(): Promise<void> }>;
}

const redis = redisImplementation();
const implementations: StoreImplementation[] = [
  ...databaseImplementations().map((database) => ({
    name: `database on ${database.name}`,
    skipReason: database.skipReason,
    async open() {
      const opened = await database.open();
      return {
        store: createDatabaseThrottleStore({ db: opened.db }),
        keys: async () =>
          (await opened.db.selectFrom('login_throttle').select('key').execute()).map((row) => row.key),
        close: () => opened.destroy(),
      };
    },
  })),
  {
    name: 'redis',
    skipReason: redis.skipReason,
    async open() {
      const keyPrefix = `${uniqueRedisPrefix('throttle')}:`;
      const client = new Redis(redis.url);
      return {
        store: createRedisThrottleStore({ redis: client, keyPrefix }),
        keys: async () => (await client.keys(`${keyPrefix}*`)).map((key) => key.slice(keyPrefix.length)),
        async close() {
          await client.quit();
          await deleteRedisKeys(redis.url, keyPrefix);
        },
      };
    },
  },
];

const second = 1_000;
const minute = 60 * second;

/** A clock tests move by hand: nothing here sleeps. */
function manualClock(start = Date.parse('2026-01-05T09:00:00Z')) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** Each attempt from a new address, like a botnet: only the per-account limits apply. */
const freshIp = () => `10.${randomBytes(3).join('.')}`;

describeEachImplementation('login throttle', implementations, (implementation) => {
  let opened: Awaited<ReturnType<StoreImplementation['open']>>;
  let clock: ReturnType<typeof manualClock>;
  let throttle: LoginThrottle;
  let account: string;

  beforeAll(async () => {
    opened = await implementation.open();
  });

  afterAll(async () => {
    await opened?.close();
  });

  beforeEach(() => {
    clock = manualClock();
    throttle = createLoginThrottle({ store: opened.store, now: clock.now });
    account = `user-${randomBytes(6).toString('hex')}@example.com`;
  });

  const check = (accountKey = account, ip = freshIp()) => throttle.check({ accountKey, ip });
  async function fail(accountKey = account) {
    const decision = await check(accountKey);
    expect(decision, 'an attempt the test expected to be admitted').toEqual({ allowed: true });
    await throttle.recordFailure({ accountKey, ip: freshIp() });
  }
  const refused = (reason: string, retryAfterSeconds: number): ThrottleDecision => ({
    allowed: false,
    reason: reason as 'backoff',
    retryAfterSeconds,
  });

  it('admits the first five failures, then backs off 1 s, 2 s, 4 s, 8 s, 16 s', async () => {
    for (let failure = 1; failure <= 5; failure += 1) await fail();
    for (const [failures, waitSeconds] of [
      [5, 1],
      [6, 2],
      [7, 4],
      [8, 8],
      [9, 16],
    ] as const) {
      expect(await check(), `after ${failures} failures`).toEqual(refused('backoff', waitSeconds));
      clock.advance(waitSeconds * second - 1);
      expect((await check()).allowed).toBe(false);
      clock.advance(1);
      await fail();
    }
  });

  it('locks the account for 15 minutes at the tenth consecutive failure, and again at each failure after', async () => {
    for (let failure = 1; failure <= 10; failure += 1) {
      await fail();
      clock.advance(20 * second);
    }
    expect(await check()).toEqual(refused('locked', 15 * 60 - 20));
    clock.advance(15 * minute - 20 * second - 1);
    expect(await check()).toEqual(refused('locked', 1));
    clock.advance(1);
    await fail();
    expect(await check()).toEqual(refused('locked', 15 * 60));
  });

  it('resets the consecutive count on success', async () => {
    for (let failure = 1; failure <= 4; failure += 1) await fail();
    expect(await check()).toEqual({ allowed: true });
    await throttle.recordSuccess({ accountKey: account });
    for (let failure = 1; failure <= 4; failure += 1) await fail();
    expect(await check()).toEqual({ allowed: true });
  });

  it('refuses after 100 failures in a rolling hour even when successes came in between', async () => {
    const started = clock.now().getTime();
    for (let failure = 1; failure <= 100; failure += 1) {
      await fail();
      // 17 s clears any backoff (16 s at most before the lock); a success before the tenth avoids the lock.
      clock.advance(17 * second);
      if (failure % 9 === 0) {
        expect(await check()).toEqual({ allowed: true });
        await throttle.recordSuccess({ accountKey: account });
      }
    }
    const elapsed = clock.now().getTime() - started;
    expect(elapsed).toBeLessThan(60 * minute);
    expect(await check()).toEqual(refused('hourly-limit', Math.ceil((60 * minute - elapsed) / second)));
    await throttle.recordSuccess({ accountKey: account });
    expect((await check()).allowed, 'a success does not clear the hourly count').toBe(false);
    clock.advance(60 * minute - elapsed);
    expect(await check(), 'the oldest failure left the window').toEqual({ allowed: true });
  });

  it('keys accounts by normalised email, whether or not the account exists', async () => {
    for (let failure = 1; failure <= 5; failure += 1) await fail(`  ${account.toUpperCase()} `);
    expect(await check(account)).toEqual(refused('backoff', 1));
    expect(await check(`other-${account}`)).toEqual({ allowed: true });
    expect((await opened.keys()).join(' ')).not.toContain('example.com');
  });

  it('limits one address to 20 attempts per 5 minutes across accounts (IPv6: per /64)', async () => {
    const ip = `192.0.2.${randomBytes(1)[0]}`;
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      expect(await check(`spray-${attempt}-${account}`, ip)).toEqual({ allowed: true });
    }
    expect(await check(`spray-21-${account}`, ip)).toEqual(refused('ip-limit', 5 * 60));
    expect(await check(`spray-22-${account}`, freshIp())).toEqual({ allowed: true });
    clock.advance(5 * minute);
    expect(await check(`spray-23-${account}`, ip)).toEqual({ allowed: true });

    const subnet = `2001:db8:${randomBytes(2).toString('hex')}:1`;
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      expect(await check(`v6-${attempt}-${account}`, `${subnet}::${attempt.toString(16)}`)).toEqual({
        allowed: true,
      });
    }
    expect(await check(`v6-21-${account}`, `${subnet}::ffff`)).toEqual(refused('ip-limit', 5 * 60));
  });

  it('admits one attempt at a time per account, so concurrent guesses cannot outrun the count', async () => {
    const decisions = await Promise.all(Array.from({ length: 12 }, () => check()));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(1);
    expect(decisions.filter((decision) => !decision.allowed)).toEqual(
      Array.from({ length: 11 }, () => refused('backoff', 1)),
    );
    await throttle.recordFailure({ accountKey: account, ip: freshIp() });
    expect(await check()).toEqual({ allowed: true });
    // An attempt that never reports its outcome holds the account for 10 s, not forever.
    clock.advance(10 * second - 1);
    expect(await check()).toEqual(refused('backoff', 1));
    clock.advance(1);
    expect(await check()).toEqual({ allowed: true });
  });

  it('counts concurrent failures of many processes exactly', async () => {
    const throttles = Array.from({ length: 4 }, () =>
      createLoginThrottle({ store: opened.store, now: clock.now }),
    );
    await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        throttles[index % throttles.length]!.recordFailure({ accountKey: account, ip: freshIp() }),
      ),
    );
    expect(await check()).toEqual(refused('backoff', 16));
    await Promise.all(throttles.map((other) => other.recordFailure({ accountKey: account, ip: freshIp() })));
    expect(await check()).toEqual(refused('locked', 15 * 60));
  });

  it('forgets an account an hour after its last failure', async () => {
    for (let failure = 1; failure <= 5; failure += 1) await fail();
    clock.advance(60 * minute);
    for (let failure = 1; failure <= 5; failure += 1) await fail();
    expect(await check()).toEqual(refused('backoff', 1));
  });
});
