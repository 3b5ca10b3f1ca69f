import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openPlaintextFile } from '../storage/blob-file.js';
import type { Keyring } from '../storage/master-key.js';
import { openSealedBuffer, sealBuffer } from '../storage/sealed-buffer.js';
import { EncryptStream } from '../storage/segmented-aead-stream.js';

export interface SealedFile {
  sizeBytes: number;
  sha256: string;
  plaintextBytes: number;
}

/** Encrypts `source` as a SAGB file under the keyring's current KEK (never overwrites); hashes the ciphertext. */
export async function writeSealedFile(
  path: string,
  source: Readable | AsyncIterable<Buffer>,
  input: { objectKey: string; keyring: Keyring },
): Promise<SealedFile> {
  const encrypt = new EncryptStream(input);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(source, encrypt, tap, createWriteStream(path, { flags: 'wx', mode: 0o600, flush: true }));
  return { sizeBytes, sha256: hash.digest('hex'), plaintextBytes: encrypt.plaintextBytes };
}

export async function writeSealedBuffer(
  path: string,
  plaintext: Buffer,
  input: { objectKey: string; keyring: Keyring },
): Promise<SealedFile> {
  const sealed = await sealBuffer(plaintext, input);
  await pipeline([sealed], createWriteStream(path, { flags: 'wx', mode: 0o600, flush: true }));
  return {
    sizeBytes: sealed.length,
    sha256: createHash('sha256').update(sealed).digest('hex'),
    plaintextBytes: plaintext.length,
  };
}

/** Plaintext of a sealed file; authentication failures are stream errors (BlobIntegrityError). */
export function openSealedFile(
  path: string,
  input: { objectKey: string; keyring: Keyring },
): Promise<Readable> {
  return openPlaintextFile(path, input);
}

export async function readSealedFile(
  path: string,
  input: { objectKey: string; keyring: Keyring },
): Promise<Buffer> {
  return openSealedBuffer(await readFile(path), input);
}

/** Size and SHA-256 of a file, or null when it is missing. */
export async function hashFile(path: string): Promise<{ sizeBytes: number; sha256: string } | null> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      sizeBytes += chunk.length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return { sizeBytes, sha256: hash.digest('hex') };
}
