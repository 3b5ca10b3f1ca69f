import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  keyringFrom,
  masterKeyFileName,
  parseMasterKey,
  previousMasterKeyFileName,
  readPreviousKeyFile,
  type Keyring,
} from './master-key.js';
import { fsyncDirectory } from './blob-file.js';

/**
 * Embedded rotation of a generated DATA_DIR/master.key: the old key is appended to master.key.previous
 * first, then a new key replaces master.key. A crash between the two leaves the old key current and also
 * listed as previous (harmless); after both, a restart loads the new key with the old one for unwrapping.
 */
export async function promoteNewGeneratedKey(dataDir: string): Promise<Keyring> {
  const currentPath = join(dataDir, masterKeyFileName);
  const old = parseMasterKey(await readFile(currentPath, 'utf8'));
  const previous = [...(await readPreviousKeyFile(dataDir)), old];
  await replaceFile(dataDir, previousMasterKeyFileName, hexLines(previous));
  const next = randomBytes(32);
  await replaceFile(dataDir, masterKeyFileName, hexLines([next]));
  return keyringFrom(next, previous);
}

/** After retirement: the old generated keys leave DATA_DIR (copies in backups are the operator's to destroy). */
export async function forgetPreviousGeneratedKeys(dataDir: string): Promise<void> {
  await rm(join(dataDir, previousMasterKeyFileName), { force: true });
  await fsyncDirectory(dataDir);
}

function hexLines(keys: readonly Buffer[]): string {
  return keys.map((key) => `${key.toString('hex')}\n`).join('');
}

/** Temp file (0600), fsync, rename over the target, fsync the directory: the file is old or new, never torn. */
async function replaceFile(dataDir: string, name: string, contents: string): Promise<void> {
  const path = join(dataDir, name);
  const tempPath = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const handle = await open(tempPath, 'wx', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await fsyncDirectory(dataDir);
}
