import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Redis } from 'ioredis';

export interface RedisUploadLockerDeps {
  redis: Redis;
  /** e.g. `guardian:upload-lock:` */
  keyPrefix: string;
  /** A holder that stops renewing (a crashed server) loses the lock this long after its last renewal. */
  leaseMs?: number;
  /** A request that cannot get the lock in this time is answered 423 upload-locked. */
  acquireTimeoutMs?: number;
  pollMs?: number;
}

const release = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const renew = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * One resumable upload is written by one request at a time across every API server: a Redis key set with NX
 * and a lease renewed while the request runs, released only by its holder (compare-and-delete). Unlike
 * @tus/server's MemoryLocker it cannot ask a holder on another server to let go: a later request waits for the
 * holder to finish, or for its lease to lapse if that server died.
 */
export class RedisUploadLocker implements Locker {
  constructor(private readonly deps: RedisUploadLockerDeps) {}

  newLock(id: string): Lock {
    return new RedisUploadLock(this.deps, `${this.deps.keyPrefix}${id}`);
  }
}

class RedisUploadLock implements Lock {
  private readonly token = randomBytes(16).toString('hex');
  private renewal: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RedisUploadLockerDeps,
    private readonly key: string,
  ) {}

  async lock(signal: AbortSignal, _requestRelease: RequestRelease): Promise<void> {
    const leaseMs = this.deps.leaseMs ?? 30_000;
    const deadline = Date.now() + (this.deps.acquireTimeoutMs ?? 30_000);
    for (;;) {
      if (await this.deps.redis.set(this.key, this.token, 'PX', leaseMs, 'NX')) break;
      if (signal.aborted || Date.now() >= deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      await sleep(this.deps.pollMs ?? 100);
    }
    this.renewal = setInterval(() => {
      this.deps.redis.eval(renew, 1, this.key, this.token, leaseMs).catch(() => undefined);
    }, leaseMs / 3);
    this.renewal.unref();
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewal);
    await this.deps.redis.eval(release, 1, this.key, this.token);
  }
}
