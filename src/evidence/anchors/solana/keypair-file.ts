import { readFile } from 'node:fs/promises';
import { createKeyPairSignerFromBytes, type KeyPairSigner } from '@solana/kit';
import { SolanaAnchorError } from './solana-anchor-errors.js';

/** Loads a keypair saved by `solana-keygen` (a JSON array of 64 bytes: secret key then public key). */
export async function loadKeypairSignerFromFile(path: string): Promise<KeyPairSigner> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SolanaAnchorError('keypair-missing', `Solana keypair file ${path} cannot be read (${code})`, {
      cause: error,
    });
  }
  const bytes = parseKeypairBytes(text, path);
  try {
    return await createKeyPairSignerFromBytes(bytes);
  } catch (error) {
    throw new SolanaAnchorError(
      'keypair-invalid',
      `Solana keypair file ${path} holds no valid Ed25519 keypair`,
      {
        cause: error,
      },
    );
  }
}

function parseKeypairBytes(text: string, path: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const isByteArray =
    Array.isArray(parsed) &&
    parsed.length === 64 &&
    parsed.every((value) => Number.isInteger(value) && value >= 0 && value <= 255);
  if (!isByteArray) {
    throw new SolanaAnchorError(
      'keypair-invalid',
      `Solana keypair file ${path} is not a JSON array of 64 bytes`,
    );
  }
  return new Uint8Array(parsed as number[]);
}
