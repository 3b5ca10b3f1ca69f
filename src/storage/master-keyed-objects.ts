import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../services/errors.js';
import { readHeaderKek, rewriteHeader } from './blob-file.js';
import type { BlobStore } from './blob-store.js';
import type { KekRef, Keyring } from './master-key.js';
import { rewrapHeader } from './segmented-aead.js';
import { rewrapSidecar, sidecarKek } from './upload-sidecar.js';

/**
 * Objects whose data keys the master key wraps. Key rotation walks every such collection: one left out would
 * keep the old key needed, so it could never be retired.
 */
export interface MasterKeyedObjects {
  /** Stable name, shown in `guardian keys status` and stored as the rotation's phase. */
  readonly name: string;
  keys(): AsyncIterable<string>;
  /** The KEK the object's header names; null when the object is gone (or holds nothing sealed). */
  kekOf(key: string): Promise<KekRef | null>;
  /** Re-wraps the data key under keyring.current; false when the object vanished meanwhile. */
  rewrap(key: string): Promise<boolean>;
}

/** Every blob (media and analysis artifacts) through the BlobStore port, whichever store backs it. */
export function blobStoreObjects(blobStore: BlobStore): MasterKeyedObjects {
  return {
    name: 'blobs',
    keys: () => blobStore.keys(),
    kekOf: (key) => blobStore.kekOf(key),
    async rewrap(key) {
      try {
        await blobStore.rewrap(key);
        return true;
      } catch (error) {
        // Deleted between listing and rewrap (a user deletion, retention): nothing left to rotate.
        if (error instanceof AppError && error.status === 404) return false;
        throw error;
      }
    },
  };
}

// The tus datastore's upload ids (server-generated); other names in the directory are not ours to touch.
const uploadIdPattern = /^[A-Za-z0-9_-]{8,100}$/;
const sidecarSuffix = '.json';

/**
 * Resumable uploads staged in DATA_DIR/uploads: each is a SAGB file (`data:<id>`) plus a sidecar whose client
 * metadata is sealed (`metadata:<id>`). Segments still being appended are untouched: only the header changes.
 */
export function stagedUploadObjects(deps: { dataDir: string; keyring: Keyring }): MasterKeyedObjects {
  const dir = join(deps.dataDir, 'uploads');
  const parse = (key: string) => {
    const [kind, id = ''] = key.split(':', 2);
    if ((kind !== 'data' && kind !== 'metadata') || !uploadIdPattern.test(id))
      throw new Error(`not a staged upload key: ${key.slice(0, 120)}`);
    return { kind, id };
  };
  return {
    name: 'staged-uploads',
    async *keys() {
      const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      for (const name of names) {
        if (uploadIdPattern.test(name)) yield `data:${name}`;
        const id = name.slice(0, -sidecarSuffix.length);
        if (name.endsWith(sidecarSuffix) && uploadIdPattern.test(id)) yield `metadata:${id}`;
      }
    },
    async kekOf(key) {
      const { kind, id } = parse(key);
      return kind === 'data' ? readHeaderKek(join(dir, id)) : sidecarKek(join(dir, `${id}${sidecarSuffix}`));
    },
    async rewrap(key) {
      const { kind, id } = parse(key);
      if (kind === 'metadata') return rewrapSidecar(join(dir, `${id}${sidecarSuffix}`), id, deps.keyring);
      try {
        await rewriteHeader(join(dir, id), (header) =>
          rewrapHeader(header, { objectKey: id, keyring: deps.keyring }),
        );
        return true;
      } catch (error) {
        // Finished and adopted into the blob store (re-wrapped there) or expired meanwhile.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
  };
}
