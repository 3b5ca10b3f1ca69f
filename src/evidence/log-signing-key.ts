import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { keyIdOf, rawPublicKey } from './ed25519.js';
import { pathExists } from '../storage/path-exists.js';

/** The key that signs statements and tree heads. Never logged: only `keyId` and `publicKey` leave this module. */
export interface LogSigningKey {
  keyId: string;
  /** The 32 raw bytes of the public key. */
  publicKey: Buffer;
  privateKey: KeyObject;
  /** `configured`: LOG_SIGNING_KEY(_FILE); `generated`: DATA_DIR/log-signing-key.pem. */
  source: 'configured' | 'generated';
}

export const logKeyFileName = 'log-signing-key.pem';

/** An Ed25519 private key in PKCS#8 PEM; the error names the problem, never the value. */
export function parseLogSigningKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(
      'LOG_SIGNING_KEY is not a PEM private key (PKCS#8, `openssl genpkey -algorithm ed25519`)',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`LOG_SIGNING_KEY must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

function fromPrivateKey(privateKey: KeyObject, source: LogSigningKey['source']): LogSigningKey {
  const publicKey = rawPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), publicKey, privateKey, source };
}

/** LOG_SIGNING_KEY when set; otherwise DATA_DIR/log-signing-key.pem, generated (mode 0600) on first use. */
export async function loadOrCreateLogSigningKey(deps: {
  configured: string | undefined;
  dataDir: string;
  log: Logger;
}): Promise<LogSigningKey> {
  if (deps.configured !== undefined) return fromPrivateKey(parseLogSigningKey(deps.configured), 'configured');
  const path = join(deps.dataDir, logKeyFileName);
  if (await pathExists(path)) {
    if (((await stat(path)).mode & 0o077) !== 0)
      deps.log.warn({ path }, 'log signing key file is readable by group or others; chmod 600 it');
  } else if (await writeKeyFile(deps.dataDir, path, { replace: false })) {
    deps.log.warn(
      { path },
      'LOG_SIGNING_KEY is not set: generated a log signing key file. Back it up and publish its public key (GET /api/v1/log/keys)',
    );
  }
  return fromPrivateKey(parseLogSigningKey(await readFile(path, 'utf8')), 'generated');
}

/** Replaces the generated key file with a new key; the old private key is gone (its public key stays in the log). */
export async function replaceGeneratedLogSigningKey(dataDir: string): Promise<LogSigningKey> {
  const path = join(dataDir, logKeyFileName);
  await writeKeyFile(dataDir, path, { replace: true });
  return fromPrivateKey(parseLogSigningKey(await readFile(path, 'utf8')), 'generated');
}

/** A complete file or none: written to a temp file (0600), then linked (first key) or renamed (rotation). */
async function writeKeyFile(dataDir: string, path: string, options: { replace: boolean }): Promise<boolean> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const tempPath = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const handle = await open(tempPath, 'wx', 0o600);
  try {
    await handle.writeFile(privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.replace) await rename(tempPath, path);
    else await link(tempPath, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tempPath, { force: true });
  }
}
