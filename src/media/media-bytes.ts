import { open } from 'node:fs/promises';
import type { MediaInput } from './media-probe.js';

/** Random access to the bytes of a media input, in bounded reads. */
export interface ByteReader {
  readonly sizeBytes: number;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

const maxReadBytes = 4 * 1024 * 1024;

/** A local file, or the loopback blob gateway URL (which answers Range requests). */
export async function openByteReader(input: MediaInput, sizeBytes: number): Promise<ByteReader> {
  if (/^https?:\/\//.test(input)) return httpByteReader(input, sizeBytes);
  const file = await open(input, 'r');
  return {
    sizeBytes,
    async read(offset, length) {
      const size = clampLength(offset, length, sizeBytes);
      if (size === 0) return Buffer.alloc(0);
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await file.read(buffer, 0, size, offset);
      return buffer.subarray(0, bytesRead);
    },
    close: () => file.close(),
  };
}

function httpByteReader(url: string, sizeBytes: number): ByteReader {
  return {
    sizeBytes,
    async read(offset, length) {
      const size = clampLength(offset, length, sizeBytes);
      if (size === 0) return Buffer.alloc(0);
      const response = await fetch(url, { headers: { Range: `bytes=${offset}-${offset + size - 1}` } });
      if (response.status !== 206 && response.status !== 200)
        throw new Error(`reading media bytes failed with HTTP ${response.status}`);
      const body = Buffer.from(await response.arrayBuffer());
      return response.status === 200 ? body.subarray(offset, offset + size) : body;
    },
    close: async () => undefined,
  };
}

const clampLength = (offset: number, length: number, sizeBytes: number) =>
  Math.max(0, Math.min(length, maxReadBytes, sizeBytes - offset));

/** Sequential reads through a window, so walking many small structures costs few real reads. */
export class WindowedReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly source: ByteReader,
    private readonly windowBytes = 1024 * 1024,
  ) {}

  get sizeBytes(): number {
    return this.source.sizeBytes;
  }

  /** Exactly `length` bytes at `offset`, or fewer when the file ends first. */
  async bytes(offset: number, length: number): Promise<Buffer> {
    const end = offset + length;
    if (offset < this.windowStart || end > this.windowStart + this.window.length) {
      if (end > this.sizeBytes && offset >= this.sizeBytes) return Buffer.alloc(0);
      this.window = await this.source.read(offset, Math.max(length, this.windowBytes));
      this.windowStart = offset;
    }
    return this.window.subarray(offset - this.windowStart, end - this.windowStart);
  }

  async byte(offset: number): Promise<number | undefined> {
    return (await this.bytes(offset, 1))[0];
  }
}
