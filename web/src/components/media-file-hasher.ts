import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export interface HashProgress {
  bytesHashed: number;
  totalBytes: number;
}

/** Thrown when the caller cancelled: not a failure to report as one. */
export class HashCancelledError extends Error {
  constructor() {
    super('Hashing was cancelled.');
    this.name = 'HashCancelledError';
  }
}

/**
 * SHA-256 of a file read chunk by chunk from `file.stream()`, entirely in this browser: the bytes never leave
 * it, and memory stays flat however large the file. Progress is reported at most every `progressEveryMs`.
 */
export async function hashFileSha256(
  file: Blob,
  options: {
    signal?: AbortSignal;
    onProgress?: (progress: HashProgress) => void;
    progressEveryMs?: number;
  } = {},
): Promise<string> {
  const { signal, onProgress, progressEveryMs = 100 } = options;
  const hash = sha256.create();
  const reader = file.stream().getReader();
  const totalBytes = file.size;
  let bytesHashed = 0;
  let lastReport = 0;
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw new HashCancelledError();
      const { done, value } = await reader.read();
      if (signal?.aborted) throw new HashCancelledError();
      if (done) break;
      hash.update(value);
      bytesHashed += value.byteLength;
      const now = Date.now();
      if (onProgress && now - lastReport >= progressEveryMs) {
        lastReport = now;
        onProgress({ bytesHashed, totalBytes });
      }
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
  onProgress?.({ bytesHashed, totalBytes });
  return bytesToHex(hash.digest());
}

/** "1.2 GB of 3.4 GB" style sizes (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
