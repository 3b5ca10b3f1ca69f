import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { BlobIntegrityError } from './segmented-aead.js';
import type { KekRef } from './master-key.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Where uploaded media lives. Keys are server-generated ids; implementations encrypt at rest. */
export interface BlobStore {
  /** Streams `source` into a new object; resolves with the plaintext size once it is durable. */
  put(key: string, source: Readable): Promise<{ sizeBytes: number }>;
  /** Plaintext size of an object, or null when it does not exist. */
  size(key: string): Promise<number | null>;
  /** Plaintext bytes (optionally a range); errors from tampering surface as stream errors. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  /** Key rotation: re-wraps the object's data key under the keyring's current KEK; the payload is untouched. */
  rewrap(key: string): Promise<void>;
  /** The KEK named in the object's header (read, not authenticated), or null when it does not exist. */
  kekOf(key: string): Promise<KekRef | null>;
  /** When the object was last written (its key object in S3), or null when it does not exist: orphan sweeps spare young ones. */
  modifiedAt(key: string): Promise<Date | null>;
  /** Every stored object key, in no particular order (backups, rotation and orphan sweeps walk this). */
  keys(): AsyncIterable<string>;
  /** Throws when the store cannot be written. */
  checkHealth(): Promise<void>;
}

/** Tampering is a security event whatever the caller does with the stream error: every store logs it. */
export function logIntegrityFailures(plaintext: Readable, blobKey: string, log: Logger): Readable {
  plaintext.once('error', (error) => {
    if (error instanceof BlobIntegrityError) log.error({ blobKey, err: error }, 'blob failed authentication');
  });
  return plaintext;
}
