import { open, writeFile, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ERRORS } from '@tus/utils';
import { fileBlob } from './blob-file.js';
import type { Keyring } from './master-key.js';
import {
  HEADER_BYTES,
  TAG_BYTES,
  ciphertextSizeOf,
  createObjectHeader,
  openObjectHeader,
  segmentBytesOf,
  segmentCountOf,
  type SegmentCipher,
} from './segmented-aead.js';

/*
 * A resumable upload is a SAGB blob written a segment at a time. Only whole segments reach the disk, so the
 * offset a client resumes from is always a multiple of the segment size until the final (last-flagged)
 * segment lands; bytes of a partial segment are dropped and the client re-sends them, as tus allows.
 */

export async function createStagedFile(
  path: string,
  input: { uploadId: string; keyring: Keyring; segmentBytes?: number; sizeBytes: number },
): Promise<void> {
  const { header, cipher } = createObjectHeader({ ...input, objectKey: input.uploadId });
  // An empty upload is complete at creation: tus never sends it a PATCH.
  const content =
    input.sizeBytes === 0 ? Buffer.concat([header, cipher.seal(0, true, Buffer.alloc(0))]) : header;
  await writeFile(path, content, { flag: 'wx', mode: 0o600, flush: true });
}

/** Bytes safely stored so far, from the file size alone. */
export async function stagedOffset(path: string, sizeBytes: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const blob = fileBlob(handle, (await handle.stat()).size);
    return offsetOf(blob.sizeBytes, sizeBytes, segmentBytesOf(await blob.readAt(0, HEADER_BYTES)));
  } finally {
    await handle.close();
  }
}

/** Appends the whole segments `source` completes from `offset`; resolves with the new offset. */
export async function appendSegments(
  path: string,
  input: { uploadId: string; keyring: Keyring; sizeBytes: number; offset: number; source: Readable },
): Promise<number> {
  const handle = await open(path, 'r+');
  try {
    const blob = fileBlob(handle, (await handle.stat()).size);
    const cipher = openObjectHeader(await blob.readAt(0, HEADER_BYTES), {
      objectKey: input.uploadId,
      keyring: input.keyring,
    });
    if (offsetOf(blob.sizeBytes, input.sizeBytes, cipher.segmentBytes) !== input.offset)
      throw ERRORS.INVALID_OFFSET;
    const writer = new SegmentAppender(handle, cipher, input.offset, input.sizeBytes);
    // Drops the torn tail a crash may have left after the last whole segment.
    if (input.offset < input.sizeBytes) await handle.truncate(writer.position);
    for await (const chunk of input.source as AsyncIterable<Buffer>) await writer.add(chunk);
    await handle.sync();
    return writer.offset;
  } finally {
    await handle.close();
  }
}

function offsetOf(fileBytes: number, sizeBytes: number, segmentBytes: number): number {
  if (fileBytes === ciphertextSizeOf(sizeBytes, segmentBytes)) return sizeBytes;
  const wholeSegments = Math.floor(Math.max(fileBytes - HEADER_BYTES, 0) / (segmentBytes + TAG_BYTES));
  return Math.min(wholeSegments * segmentBytes, sizeBytes);
}

class SegmentAppender {
  private readonly segment: Buffer;
  private filled = 0;
  private index: number;

  constructor(
    private readonly handle: FileHandle,
    private readonly cipher: SegmentCipher,
    offset: number,
    private readonly sizeBytes: number,
  ) {
    this.segment = Buffer.alloc(cipher.segmentBytes);
    this.index =
      offset === sizeBytes ? segmentCountOf(sizeBytes, cipher.segmentBytes) : offset / cipher.segmentBytes;
  }

  get position(): number {
    return HEADER_BYTES + this.index * (this.cipher.segmentBytes + TAG_BYTES);
  }

  /** Offset covered by segments on disk. */
  get offset(): number {
    return Math.min(this.index * this.cipher.segmentBytes, this.sizeBytes);
  }

  async add(chunk: Buffer): Promise<void> {
    let used = 0;
    while (used < chunk.length) {
      const segmentStart = this.index * this.cipher.segmentBytes;
      const room = Math.min(this.segment.length, this.sizeBytes - segmentStart) - this.filled;
      if (room <= 0) throw ERRORS.ERR_SIZE_EXCEEDED;
      const copied = chunk.copy(this.segment, this.filled, used, used + room);
      this.filled += copied;
      used += copied;
      if (this.filled === this.segment.length || segmentStart + this.filled === this.sizeBytes) {
        await this.flushSegment(segmentStart + this.filled === this.sizeBytes);
      }
    }
  }

  private async flushSegment(last: boolean): Promise<void> {
    const sealed = this.cipher.seal(this.index, last, this.segment.subarray(0, this.filled));
    await this.handle.write(sealed, 0, sealed.length, this.position);
    this.index += 1;
    this.filled = 0;
  }
}
