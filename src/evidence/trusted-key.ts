import { createHash, createPublicKey } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { keyIdOf, rawPublicKey } from './ed25519.js';

/**
 * A key the verifier's user trusts, as a key id: given as the 64-hex key id, a PEM public key file, or the
 * 32 raw bytes in base64 (GET /api/v1/log/keys lists all three forms).
 */
export async function trustedKeyId(value: string): Promise<string> {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  const isFile = await stat(value).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (isFile) {
    try {
      return keyIdOf(rawPublicKey(createPublicKey(await readFile(value, 'utf8'))));
    } catch {
      throw new Error(`${value} does not hold an Ed25519 public key in PEM`);
    }
  }
  const raw = Buffer.from(value, 'base64');
  if (raw.length === 32 && raw.toString('base64') === value) return keyIdOf(raw);
  throw new Error(
    `--trusted-key ${value.slice(0, 80)}: not a key id (64 hex), a PEM file or a base64 Ed25519 key`,
  );
}

/** Lowercase hex SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
