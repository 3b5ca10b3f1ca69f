import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/services/errors.js';
import {
  createPasswordHasher,
  createSemaphore,
  type Argon2Primitives,
} from '../../src/services/password-hasher.js';
import { assertAcceptablePassword } from '../../src/services/password-policy.js';

function refusal(password: string): string | null {
  try {
    assertAcceptablePassword(password);
    return null;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

/** A password of `length` characters that no common-password list holds. */
function passwordOf(length: number): string {
  const alphabet = 'qZ7#kP2@wM9!xR4$';
  return Array.from({ length }, (_, index) => alphabet[(index * 7) % alphabet.length]).join('');
}

describe('password policy (ASVS 6.2)', () => {
  it('accepts 8 characters and refuses 7', () => {
    expect(refusal(passwordOf(8))).toBeNull();
    expect(refusal(passwordOf(7))).toBe('password-too-short');
  });

  it('accepts 64 and 200 characters, with no composition rules', () => {
    expect(refusal(passwordOf(64))).toBeNull();
    expect(refusal(passwordOf(200))).toBeNull();
    expect(refusal('all lower case words only')).toBeNull();
    expect(refusal('ÄÖÜ ß 漢字 emoji 🦊 mixed')).toBeNull();
  });

  it('counts characters, not UTF-16 units, and refuses beyond 256', () => {
    expect(refusal('🦊'.repeat(8))).toBeNull();
    expect(refusal('🦊'.repeat(7))).toBe('password-too-short');
    expect(refusal(passwordOf(256))).toBeNull();
    expect(refusal(passwordOf(257))).toBe('password-too-long');
  });

  it('refuses the most common passwords, whatever their case or Unicode form', () => {
    expect(refusal('password')).toBe('password-too-common');
    expect(refusal('PassWord')).toBe('password-too-common');
    expect(refusal('12345678')).toBe('password-too-common');
    expect(refusal('iloveyou')).toBe('password-too-common');
    // Full-width letters are the same password after NFKC normalisation.
    expect(refusal('ｐａｓｓｗｏｒｄ')).toBe('password-too-common');
  });
});

describe('password hasher (argon2id)', () => {
  const hasher = createPasswordHasher({ concurrency: 2 });

  it('stores argon2id with m=19456 KiB, t=2, p=1', async () => {
    const hash = await hasher.hash(passwordOf(12));
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(hasher.needsRehash(hash)).toBe(false);
    expect(hasher.needsRehash('$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
  });

  it('asks for a rehash whenever algorithm, version or a parameter differs from the current ones', async () => {
    const salt = 'c2FsdHNhbHRzYWx0c2FsdA';
    const digest = 'aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
    const phc = (head: string) => `$${head}$${salt}$${digest}`;
    expect(hasher.needsRehash(phc('argon2id$v=19$m=19456,t=2,p=1'))).toBe(false);
    for (const head of [
      'argon2id$v=19$m=65536,t=2,p=1',
      'argon2id$v=19$m=19456,t=3,p=1',
      'argon2id$v=19$m=19456,t=1,p=1',
      'argon2id$v=19$m=19456,t=2,p=4',
      'argon2i$v=19$m=19456,t=2,p=1',
      'argon2id$v=16$m=19456,t=2,p=1',
    ])
      expect(hasher.needsRehash(phc(head)), head).toBe(true);
    expect(hasher.needsRehash('not a hash')).toBe(true);
    // A hasher made with other parameters judges by its own.
    const lighter = createPasswordHasher({ parameters: { memoryCost: 4096, timeCost: 1, parallelism: 1 } });
    const light = await lighter.hash(passwordOf(12));
    expect(light).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    expect(lighter.needsRehash(light)).toBe(false);
    expect(hasher.needsRehash(light)).toBe(true);
    expect(await hasher.verify(light, passwordOf(12))).toBe(true);
  });

  it.each([64, 200])(
    'does not truncate a %i-character password: changing its 100th character fails',
    async (length) => {
      const password = passwordOf(length);
      const hash = await hasher.hash(password);
      expect(await hasher.verify(hash, password)).toBe(true);
      const position = Math.min(99, length - 1);
      const changed = `${password.slice(0, position)}${password[position] === 'x' ? 'y' : 'x'}${password.slice(position + 1)}`;
      expect(await hasher.verify(hash, changed)).toBe(false);
      expect(await hasher.verify(hash, password.slice(0, -1))).toBe(false);
    },
  );

  it('verifies the NFKC form: the same password typed with compatibility characters matches', async () => {
    const hash = await hasher.hash('ｆｕｌｌｗｉｄｔｈ secret phrase');
    expect(await hasher.verify(hash, 'fullwidth secret phrase')).toBe(true);
  });

  it('answers false for a malformed hash instead of throwing', async () => {
    expect(await hasher.verify('not-a-hash', 'whatever')).toBe(false);
  });
});

/** argon2 primitives that only finish when the test releases them, counting how many run at once. */
function instrumentedPrimitives() {
  const pending: (() => void)[] = [];
  const state = { active: 0, maxActive: 0, hashes: 0, verifies: 0 };
  const run = <T>(value: T) =>
    new Promise<T>((resolve) => {
      state.active += 1;
      state.maxActive = Math.max(state.maxActive, state.active);
      pending.push(() => {
        state.active -= 1;
        resolve(value);
      });
    });
  const primitives: Argon2Primitives = {
    hash: (password) => {
      state.hashes += 1;
      return run(`hash-of:${password}`);
    },
    verify: (hashed, password) => {
      state.verifies += 1;
      return run(hashed === `hash-of:${password}`);
    },
  };
  return { primitives, state, pending };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('bounded hashing concurrency', () => {
  it('a burst of 20 hashes never runs more than the limit at once, and all complete', async () => {
    const { primitives, state, pending } = instrumentedPrimitives();
    const hasher = createPasswordHasher({ concurrency: 3, primitives });
    const burst = Array.from({ length: 20 }, (_, index) => hasher.hash(`password number ${index}`));
    await settle();
    expect(state.active).toBe(3);
    let released = 0;
    while (released < 20) {
      const next = pending.shift();
      if (!next) throw new Error(`only ${released} of 20 hashes started`);
      next();
      released += 1;
      await settle();
      expect(state.active).toBeLessThanOrEqual(3);
    }
    const hashes = await Promise.all(burst);
    expect(hashes).toHaveLength(20);
    expect(state.maxActive).toBe(3);
    expect(state.hashes).toBe(20);
  });

  it('counts verifications (and the dummy verification for unknown accounts) against the same limit', async () => {
    const { primitives, state, pending } = instrumentedPrimitives();
    const hasher = createPasswordHasher({ concurrency: 2, primitives });
    const work = [
      hasher.verify('hash-of:a', 'a'),
      hasher.verifyDummy('guess'),
      hasher.verify('hash-of:b', 'c'),
      hasher.hash('x'),
    ];
    for (let round = 0; round < 10; round += 1) {
      await settle();
      expect(state.active).toBeLessThanOrEqual(2);
      const next = pending.shift();
      if (!next) break;
      next();
    }
    const [good, , wrong] = await Promise.all(work);
    expect(good).toBe(true);
    expect(wrong).toBe(false);
    expect(state.maxActive).toBeLessThanOrEqual(2);
    // The dummy verification hashes its dummy once, then verifies against it: the same work as a real login.
    expect(state.verifies).toBe(3);
  });

  it('the semaphore refuses a non-positive limit', () => {
    expect(() => createSemaphore(0)).toThrow(RangeError);
  });
});
