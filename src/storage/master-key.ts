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

export function findKek(keyring: Keyring, id: string, version: number): Kek | undefined {
  return [keyring.current, ...keyring.previous].find((kek) => kek.id === id && kek.version === version);
}

export interface LoadMasterKeyDeps {
  configured: string | undefined;
  dataDir: string;
  production: boolean;
  log: Logger;
}

/** MASTER_KEY when set; otherwise (never in production) a generated DATA_DIR/master.key, reused on later starts. */
export async function loadOrCreateMasterKey(deps: LoadMasterKeyDeps): Promise<Keyring> {
  if (deps.configured !== undefined) {
    return { current: kekFromMasterKey(parseMasterKey(deps.configured)), previous: [] };
  }
  if (deps.production) throw new Error('MASTER_KEY is required in production (or MASTER_KEY_FILE)');
  const path = join(deps.dataDir, 'master.key');
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
  return { current: kekFromMasterKey(parseKeyFile(await readFile(path, 'utf8'), path)), previous: [] };
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
