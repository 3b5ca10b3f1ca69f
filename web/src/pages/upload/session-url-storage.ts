import type { PreviousUpload, UrlStorage } from 'tus-js-client';

const prefix = 'guardian-upload::';

/** The part of the Web Storage API used here (sessionStorage in the page, a Map in tests). */
export interface KeyValueStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Where tus-js-client keeps unfinished uploads' URLs so a reload can resume them: sessionStorage (this tab
 * only, gone when it closes) instead of the library's localStorage. An upload URL is useless without the
 * session cookie; the file name is kept to list resumable uploads after a reload.
 */
export function sessionUrlStorage(storage: KeyValueStorage): UrlStorage {
  const entries = (filter: string): PreviousUpload[] => {
    const found: PreviousUpload[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (!key?.startsWith(filter)) continue;
      try {
        const upload = JSON.parse(storage.getItem(key) ?? '') as PreviousUpload;
        found.push({ ...upload, urlStorageKey: key });
      } catch {
        storage.removeItem(key);
      }
    }
    return found;
  };
  return {
    findAllUploads: async () => entries(prefix),
    findUploadsByFingerprint: async (fingerprint) => entries(`${prefix}${fingerprint}::`),
    removeUpload: async (key) => storage.removeItem(key),
    async addUpload(fingerprint, upload) {
      const key = `${prefix}${fingerprint}::${Math.random().toString(36).slice(2)}`;
      storage.setItem(key, JSON.stringify(upload));
      return key;
    },
  };
}

/** Identifies a file across reloads without its name in the key: size, date and a short hash of the name. */
export async function fileFingerprint(
  file: Pick<File, 'name' | 'type' | 'size' | 'lastModified'>,
): Promise<string> {
  return `${file.size}-${file.lastModified}-${fnv1a(`${file.name}|${file.type}`)}`;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16);
}
