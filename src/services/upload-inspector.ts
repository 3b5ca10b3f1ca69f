import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { payloadTooLarge } from './errors.js';

const sniffBytes = 4096;

/**
 * Sits between the client's bytes and the blob store: hashes, counts against the limit and keeps the
 * first bytes for type sniffing, in one pass and constant memory.
 */
export class UploadInspector extends Transform {
  private readonly hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;
  private total = 0;
  private digest: string | null = null;

  constructor(private readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.limitBytes) {
      callback(payloadTooLarge(this.limitBytes));
      return;
    }
    if (this.headLength < sniffBytes) {
      const part = chunk.subarray(0, sniffBytes - this.headLength);
      this.headChunks.push(part);
      this.headLength += part.length;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    callback();
  }

  get sizeBytes(): number {
    return this.total;
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks);
  }

  get sha256(): string {
    if (this.digest === null) throw new Error('upload not finished');
    return this.digest;
  }
}
