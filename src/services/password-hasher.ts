import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { normalisePassword } from './password-policy.js';

export interface Argon2Parameters {
  /** KiB of memory per hash (`m=` in the stored hash). */
  memoryCost: number;
  /** Passes (`t=`). */
  timeCost: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/** OWASP's argon2id baseline (ASVS 11.4.2): 19 MiB, 2 passes, 1 lane. */
export const argon2Parameters: Readonly<Argon2Parameters> = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};
// @node-rs/argon2 declares Algorithm and Version as const enums, which isolatedModules cannot import:
// algorithm 2 is Argon2id, version 1 is 0x13 (the `v=19` of every hash made today).
const argon2id = 2 as Options['algorithm'];
const version0x13 = 1 as Options['version'];
const outputLength = 32;

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
  /**
   * True when the hash was not made with this hasher's algorithm, version and parameters (weaker or
   * stronger: the current choice wins): the next successful login replaces it.
   */
  needsRehash(passwordHash: string): boolean;
}

/**
 * argon2id through a semaphore: each hash takes 19 MiB, so at most `concurrency` run at once and the rest
 * wait their turn; a burst of logins queues instead of exhausting memory.
 */
export function createPasswordHasher(
  deps: { concurrency?: number; primitives?: Argon2Primitives; parameters?: Argon2Parameters } = {},
): PasswordHasher {
  const primitives = deps.primitives ?? nodeRsArgon2;
  const parameters = deps.parameters ?? argon2Parameters;
  const options: Options = {
    ...parameters,
    algorithm: argon2id,
    version: version0x13,
    outputLen: outputLength,
  };
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
          used.version !== version0x13 ||
          used.outputLen !== outputLength ||
          used.memoryCost !== parameters.memoryCost ||
          used.timeCost !== parameters.timeCost ||
          used.parallelism !== parameters.parallelism
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
