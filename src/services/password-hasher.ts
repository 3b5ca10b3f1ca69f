import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { normalisePassword } from './password-policy.js';

/** OWASP's argon2id baseline (ASVS 11.4.2): 19 MiB, 2 passes, 1 lane. */
export const argon2Parameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
// @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot import: 2 is Argon2id.
const argon2id = 2 as Options['algorithm'];
const options: Options = { ...argon2Parameters, algorithm: argon2id };

/** The raw primitives, injectable so tests can observe how many run at once. */
export interface Argon2Primitives {
  hash(password: string, options: Options): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
}

const nodeRsArgon2: Argon2Primitives = {
  hash: (password, hashOptions) => hash(password, hashOptions),
  verify: (hashed, password) => verify(hashed, password),
};

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or a malformed hash. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** The same work as a verify, against a hash no password matches: for unknown accounts. */
  verifyDummy(password: string): Promise<void>;
  /** True when the hash was made with other parameters than today's: rehash on the next login. */
  needsRehash(passwordHash: string): boolean;
}

/**
 * argon2id through a semaphore: each hash takes 19 MiB, so at most `concurrency` run at once and the rest
 * wait their turn; a burst of logins queues instead of exhausting memory.
 */
export function createPasswordHasher(
  deps: { concurrency?: number; primitives?: Argon2Primitives } = {},
): PasswordHasher {
  const primitives = deps.primitives ?? nodeRsArgon2;
  const limit = createSemaphore(deps.concurrency ?? 2);
  let dummyHash: Promise<string> | null = null;
  const hashPassword = (password: string) =>
    limit(() => primitives.hash(normalisePassword(password), options));

  const verifyPassword = async (passwordHash: string, password: string) => {
    try {
      return await limit(() => primitives.verify(passwordHash, normalisePassword(password)));
    } catch {
      return false;
    }
  };

  return {
    hash: hashPassword,
    verify: verifyPassword,
    async verifyDummy(password) {
      dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
      await verifyPassword(await dummyHash, password);
    },
    needsRehash(passwordHash) {
      try {
        const used = parseOptions(passwordHash);
        return (
          used.algorithm !== argon2id ||
          used.memoryCost < argon2Parameters.memoryCost ||
          used.timeCost < argon2Parameters.timeCost ||
          used.parallelism !== argon2Parameters.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}

/** Runs at most `max` tasks at once; the others wait in arrival order. */
export function createSemaphore(max: number) {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('concurrency must be a positive integer');
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
