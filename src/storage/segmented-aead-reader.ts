import type { ByteRange } from './blob-store.js';
import type { Keyring } from './master-key.js';
import {
  BlobIntegrityError,
  HEADER_BYTES,
  TAG_BYTES,
  openObjectHeader,
  plaintextSizeOf,
  segmentCountOf,
} from './segmented-aead.js';

/** Positional reads over a stored SAGB blob (a file handle, or a buffer in tests). */
export interface RandomAccessBlob {
  sizeBytes: number;
  readAt(position: number, length: number): Promise<Buffer>;
}

/**
 * Yields the plaintext of `range` (default: everything), reading and authenticating only the segments it
 * covers plus the final segment, which is checked first so a truncated blob never yields a byte.
 */
export async function* decryptBlob(
  blob: RandomAccessBlob,
  input: { objectKey: string; keyring: Keyring; range?: ByteRange },
): AsyncGenerator<Buffer> {
  if (blob.sizeBytes < HEADER_BYTES) throw new BlobIntegrityError('blob is shorter than its header');
  const cipher = openObjectHeader(await readExactly(blob, 0, HEADER_BYTES), input);
  const segmentBytes = cipher.segmentBytes;
  const sizeBytes = plaintextSizeOf(blob.sizeBytes, segmentBytes);
  const lastIndex = segmentCountOf(sizeBytes, segmentBytes) - 1;
  const readSegment = (index: number) => {
    const position = HEADER_BYTES + index * (segmentBytes + TAG_BYTES);
    return readExactly(blob, position, Math.min(segmentBytes + TAG_BYTES, blob.sizeBytes - position));
  };
  const lastSegment = cipher.open(lastIndex, true, await readSegment(lastIndex));
  if (sizeBytes === 0 && input.range === undefined) return;
  const { start, end } = checkedRange(input.range ?? { start: 0, end: sizeBytes - 1 }, sizeBytes);
  for (let index = Math.floor(start / segmentBytes); index <= Math.floor(end / segmentBytes); index += 1) {
    const plaintext = index === lastIndex ? lastSegment : cipher.open(index, false, await readSegment(index));
    const segmentStart = index * segmentBytes;
    yield plaintext.subarray(Math.max(start - segmentStart, 0), end - segmentStart + 1);
  }
}

function checkedRange(range: ByteRange, sizeBytes: number): ByteRange {
  const { start, end } = range;
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    end >= sizeBytes
  ) {
    throw new RangeError(`range ${start}-${end} is outside the object (${sizeBytes} bytes)`);
  }
  return range;
}

async function readExactly(blob: RandomAccessBlob, position: number, length: number): Promise<Buffer> {
  const bytes = await blob.readAt(position, length);
  if (bytes.length !== length) throw new BlobIntegrityError('blob changed size while being read');
  return bytes;
}
