import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { keyIdOf, rawPublicKey } from '../../src/evidence/ed25519.js';
import {
  loadOrCreateLogSigningKey,
  logKeyFileName,
  replaceGeneratedLogSigningKey,
} from '../../src/evidence/log-signing-key.js';

let dir: string;
let logged: string;
const log = pino(
  { level: 'trace' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  }),
);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'guardian-log-key-'));
  logged = '';
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ed25519Pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('log signing key', () => {
  it('generates DATA_DIR/log-signing-key.pem once (mode 0600), says so without the key, and reuses it', async () => {
    const first = await loadOrCreateLogSigningKey({ configured: undefined, dataDir: dir, log });
    const path = join(dir, logKeyFileName);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(first.source).toBe('generated');
    expect(first.keyId).toBe(keyIdOf(first.publicKey));
    expect(logged).toMatch(/generated a log signing key file/);
    expect(logged).not.toMatch(/PRIVATE KEY|MC4CAQAwBQYDK2Vw/);
    const again = await loadOrCreateLogSigningKey({ configured: undefined, dataDir: dir, log });
    expect(again.keyId).toBe(first.keyId);
    const rotated = await replaceGeneratedLogSigningKey(dir);
    expect(rotated.keyId).not.toBe(first.keyId);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateLogSigningKey({ configured: undefined, dataDir: dir, log })).keyId).toBe(
      rotated.keyId,
    );
  });

  it('takes a configured PKCS#8 Ed25519 key; its id is the SHA-256 of the raw public key', async () => {
    const pem = ed25519Pem();
    const key = await loadOrCreateLogSigningKey({ configured: pem, dataDir: dir, log });
    expect(key.source).toBe('configured');
    expect(key.keyId).toBe(keyIdOf(rawPublicKey(createPublicKey(pem))));
    expect(key.keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses other keys and garbage in configuration without echoing them (LOG_SIGNING_KEY_FILE too)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const base = { NODE_ENV: 'test', DATA_DIR: dir };
    expect(() => loadConfig({ ...base, LOG_SIGNING_KEY: rsa })).toThrow(
      /LOG_SIGNING_KEY: must be an Ed25519 key, not rsa/,
    );
    const secret = 'not-a-key-s3cr3t';
    let message = '';
    try {
      loadConfig({ ...base, LOG_SIGNING_KEY: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/LOG_SIGNING_KEY: is not a PEM private key/);
    expect(message).not.toContain(secret);
    const file = join(dir, 'log.pem');
    const pem = ed25519Pem();
    await writeFile(file, pem, { mode: 0o600 });
    expect(loadConfig({ ...base, LOG_SIGNING_KEY_FILE: file }).LOG_SIGNING_KEY).toBe(
      (await readFile(file, 'utf8')).trim(),
    );
  });
});
