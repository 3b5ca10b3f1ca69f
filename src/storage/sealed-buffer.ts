import type { Keyring } from './master-key.js';
import { decryptBlob } from './segmented-aead-reader.js';
import { EncryptStream } from './segmented-aead-stream.js';

/** Small values (upload metadata) as a whole SAGB blob in memory. */
export async function sealBuffer(
  plaintext: Buffer,
  input: { objectKey: string; keyring: Keyring },
): Promise<Buffer> {
  const encrypt = new EncryptStream(input);
  encrypt.end(plaintext);
  return Buffer.concat(await encrypt.toArray());
}

export async function openSealedBuffer(
  sealed: Buffer,
  input: { objectKey: string; keyring: Keyring },
): Promise<Buffer> {
  const blob = {
    sizeBytes: sealed.length,
    readAt: async (position: number, length: number) => sealed.subarray(position, position + length),
  };
  const parts: Buffer[] = [];
  for await (const part of decryptBlob(blob, input)) parts.push(part);
  return Buffer.concat(parts);
}
