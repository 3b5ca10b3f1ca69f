import { ERRORS } from '@tus/utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisUploadLocker } from '../../src/storage/redis-upload-locker.js';
import { describeEachImplementation } from '../helpers/databases.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';

const redisUnderTest = redisImplementation();

describeEachImplementation('RedisUploadLocker', [redisUnderTest], () => {
  const prefix = uniqueRedisPrefix('upload-lock');
  let redis: Redis;
  let other: Redis;
  // Two servers: two lockers over two connections, as two API processes would have.
  let lockers: [RedisUploadLocker, RedisUploadLocker];

  beforeAll(() => {
    redis = new Redis(redisUnderTest.url);
    other = new Redis(redisUnderTest.url);
    lockers = [
      new RedisUploadLocker({ redis, keyPrefix: prefix, acquireTimeoutMs: 300, pollMs: 10 }),
      new RedisUploadLocker({ redis: other, keyPrefix: prefix, acquireTimeoutMs: 5000, pollMs: 10 }),
    ];
  });

  afterAll(async () => {
    await deleteRedisKeys(redisUnderTest.url, prefix);
    await redis?.quit();
    await other?.quit();
  });

  it('lets one holder write an upload at a time across servers', async () => {
    const held = lockers[1].newLock('upload-a');
    await held.lock(new AbortController().signal, () => undefined);
    const contender = lockers[0].newLock('upload-a');
    await expect(contender.lock(new AbortController().signal, () => undefined)).rejects.toBe(
      ERRORS.ERR_LOCK_TIMEOUT,
    );
    // Another upload is not blocked.
    const unrelated = lockers[0].newLock('upload-b');
    await unrelated.lock(new AbortController().signal, () => undefined);
    await unrelated.unlock();

    const waiting = lockers[1].newLock('upload-a');
    let acquired = false;
    const acquiring = waiting
      .lock(new AbortController().signal, () => undefined)
      .then(() => (acquired = true));
    // A non-holder's unlock releases nothing.
    await contender.unlock();
    expect(await redis.exists(`${prefix}upload-a`)).toBe(1);
    expect(acquired).toBe(false);
    await held.unlock();
    await acquiring;
    await waiting.unlock();
    expect(await redis.exists(`${prefix}upload-a`)).toBe(0);
  });
});
