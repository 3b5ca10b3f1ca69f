import { Transform, type TransformCallback } from 'node:stream';
import type { Keyring } from './master-key.js';
import { createObjectHeader, type SegmentCipher } from './segmented-aead.js';

/** Plaintext in, SAGB blob out; holds at most one plaintext segment whatever the input size. */
export class EncryptStream extends Transform {
  private readonly cipher: SegmentCipher;
  private readonly segment: Buffer;
  private filled = 0;
  private index = 0;
  private total = 0;

  constructor(input: { objectKey: string; keyring: Keyring; segmentBytes?: number }) {
    super();
    const { header, cipher } = createObjectHeader(input);
    this.cipher = cipher;
    this.segment = Buffer.alloc(cipher.segmentBytes);
    this.push(header);
  }

  /** Plaintext bytes consumed so far (the object's size once the stream has finished). */
  get plaintextBytes(): number {
    return this.total;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        // A full segment is sealed only once more data proves it is not the last one.
        if (this.filled === this.segment.length) this.sealSegment(false);
        const copied = chunk.copy(
          this.segment,
          this.filled,
          offset,
          offset + this.segment.length - this.filled,
        );
        this.filled += copied;
        offset += copied;
      }
      this.total += chunk.length;
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.sealSegment(true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private sealSegment(last: boolean): void {
    this.push(this.cipher.seal(this.index, last, this.segment.subarray(0, this.filled)));
    this.index += 1;
    this.filled = 0;
  }
}
