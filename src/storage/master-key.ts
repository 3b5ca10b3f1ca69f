import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pathExists } from './path-exists.js';

/** A key-encryption key: wraps per-object data keys. `id` + `version` are written into every blob header. */
export interface Kek {
  id: string;
  version: number;
  key: Buffer;
}

/** Which KEK wraps an object, as its header names it (no key material). */
export interface KekRef {
  id: string;
  version: number;
}

/** `current` wraps new data keys; `previous` only unwraps, until every object has been re-wrapped. */
export interface Keyring {
  current: Kek;
  previous: readonly Kek[];
}

const keyBytes = 32;
const hexKey = /^[0-9a-fA-F]{64}$/;
const base64Key = /^[A-Za-z0-9+/]{43}=$/;

/** Accepts 64 hex characters or canonical base64 of exactly 32 bytes; the error never echoes the value. */
export function parseMasterKey(value: string): Buffer {
  const trimmed = value.trim();
  if (hexKey.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (base64Key.test(trimmed)) {
    const decoded = Buffer.from(trimmed, 'base64');
    if (decoded.length === keyBytes && decoded.toString('base64') === trimmed) return decoded;
  }
  throw new Error(
    `MASTER_KEY must be 32 bytes written as 64 hex characters or base64 (got ${trimmed.length} characters)`,
  );
}

/** The id is a hash of the key under a fixed label, so headers name the key without revealing it. */
export function kekFromMasterKey(masterKey: Buffer, version = 1): Kek {
  const id = createHash('sha256').update('secureai-guardian/kek-id/v1\0').update(masterKey).digest('hex');
  // A derived wrapping key keeps MASTER_KEY usable for other purposes without key reuse.
  const key = Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), 'secureai-guardian/blob-kek/v1', 32),
  );
  return { id: `mk-${id.slice(0, 16)}`, version, key };
}

/** MASTER_KEY_PREVIOUS: keys separated by commas or whitespace; the error names the entry, never its value. */
export function parseMasterKeyList(value: string, name = 'MASTER_KEY_PREVIOUS'): Buffer[] {
  return value
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      try {
        return parseMasterKey(entry);
      } catch (error) {
        throw new Error(
          `${name} entry ${index + 1}: ${(error as Error).message.replace(/^MASTER_KEY /, '')}`,
          { cause: error },
        );
      }
    });
}

/** A keyring from raw keys: the first is current, the rest unwrap only (duplicates and the current one dropped). */
export function keyringFrom(current: Buffer, previous: readonly Buffer[]): Keyring {
  const kek = kekFromMasterKey(current);
  const seen = new Set([kek.id]);
  const older: Kek[] = [];
  for (const key of previous) {
    const candidate = kekFromMasterKey(key);
    if (seen.has(candidate.id)) continue;
    seen.add(candidate.id);
    older.push(candidate);
  }
  return { current: kek, previous: older };
}

/** A keyring whose keys can be swapped while services hold it: rotation without a restart. */
export interface LiveKeyring extends Keyring {
  replace(next: Keyring): void;
}

export function liveKeyring(initial: Keyring): LiveKeyring {
  let state = initial;
  return {
    get current() {
      return state.current;
    },
    get previous() {
      return state.previous;
    },
    replace(next) {
      state = next;
    },
  };
}

export function findKek(keyring: Keyring, id: string, version: number): Kek | undefined {
  return [keyring.current, ...keyring.previous].find((kek) => kek.id === id && kek.version === version);
}

export interface LoadMasterKeyDeps {
  configured: string | undefined;
  /** MASTER_KEY_PREVIOUS: old keys that only unwrap, during a rotation. */
  configuredPrevious?: string | undefined;
  dataDir: string;
  production: boolean;
  log: Logger;
}

export const masterKeyFileName = 'master.key';
/** Old generated keys kept by `guardian keys rotate --generate` until `guardian keys retire`, one per line. */
export const previousMasterKeyFileName = 'master.key.previous';

/**
 * MASTER_KEY when set; otherwise (never in production) a generated DATA_DIR/master.key, reused on later starts.
 * Previous keys: MASTER_KEY_PREVIOUS, plus DATA_DIR/master.key.previous for a generated key.
 */
export async function loadOrCreateMasterKey(deps: LoadMasterKeyDeps): Promise<Keyring> {
  const configuredPrevious =
    deps.configuredPrevious === undefined ? [] : parseMasterKeyList(deps.configuredPrevious);
  if (deps.configured !== undefined) {
    return keyringFrom(parseMasterKey(deps.configured), configuredPrevious);
  }
  if (deps.production) throw new Error('MASTER_KEY is required in production (or MASTER_KEY_FILE)');
  const path = join(deps.dataDir, masterKeyFileName);
  if (await pathExists(path)) {
    if (((await stat(path)).mode & 0o077) !== 0) {
      deps.log.warn({ path }, 'master key file is readable by group or others; chmod 600 it');
    }
  } else if (await createKeyFileOnce(deps.dataDir, path)) {
    deps.log.warn(
      { path },
      'MASTER_KEY is not set: generated a master key file. Back it up (losing it makes every stored blob unreadable) and set MASTER_KEY in production',
    );
  }
  const current = parseKeyFile(await readFile(path, 'utf8'), path);
  return keyringFrom(current, [...configuredPrevious, ...(await readPreviousKeyFile(deps.dataDir))]);
}

export async function readPreviousKeyFile(dataDir: string): Promise<Buffer[]> {
  const path = join(dataDir, previousMasterKeyFileName);
  const contents = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  try {
    return parseMasterKeyList(contents, path);
  } catch {
    throw new Error(
      `${path} does not hold valid master keys (64 hex characters a line); restore it from backup`,
    );
  }
}

function parseKeyFile(contents: string, path: string): Buffer {
  try {
    return parseMasterKey(contents);
  } catch {
    throw new Error(`${path} does not hold a valid master key (64 hex characters); restore it from backup`);
  }
}

/** Writes a temp file and links it into place: the key file appears complete or not at all, and never twice. */
async function createKeyFileOnce(dataDir: string, path: string): Promise<boolean> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tempPath = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const handle = await open(tempPath, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(keyBytes).toString('hex')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tempPath, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tempPath, { force: true });
  }
}
