import type { RandomAccessBlob } from './segmented-aead-reader.js';
import { HEADER_BYTES } from './segmented-aead.js';
import type { S3Objects } from './s3-objects.js';

/**
 * A SAGB blob stored as two objects (the 242-byte header, then the segments) seen as one, read by ranged GETs.
 * Reads below `readAheadLimit` fetch up to `windowBytes` at once so a sequential read is a few large GETs, not
 * one per segment; the limit keeps a range read from fetching segments it does not need.
 */
export function s3Blob(input: {
  objects: S3Objects;
  header: Buffer;
  payloadKey: string;
  payloadBytes: number;
  windowBytes: number;
  readAheadLimit: number;
}): RandomAccessBlob {
  const { objects, header, payloadKey, payloadBytes, windowBytes } = input;
  let window: { start: number; bytes: Buffer } = { start: 0, bytes: Buffer.alloc(0) };

  async function readPayload(position: number, length: number): Promise<Buffer> {
    const end = Math.min(position + length, payloadBytes);
    if (end <= position) return Buffer.alloc(0);
    const windowEnd = window.start + window.bytes.length;
    if (position >= window.start && end <= windowEnd) {
      return window.bytes.subarray(position - window.start, end - window.start);
    }
    const limit = Math.min(Math.max(input.readAheadLimit - HEADER_BYTES, end), payloadBytes);
    const fetchEnd = Math.max(end, Math.min(position + windowBytes, limit));
    const bytes = await objects.getRange(payloadKey, position, fetchEnd - 1);
    window = { start: position, bytes };
    return bytes.subarray(0, end - position);
  }

  return {
    sizeBytes: HEADER_BYTES + payloadBytes,
    async readAt(position, length) {
      const parts: Buffer[] = [];
      if (position < HEADER_BYTES) {
        parts.push(header.subarray(position, Math.min(position + length, HEADER_BYTES)));
        length -= parts[0]!.length;
        position = HEADER_BYTES;
      }
      if (length > 0) parts.push(await readPayload(position - HEADER_BYTES, length));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
  };
}
