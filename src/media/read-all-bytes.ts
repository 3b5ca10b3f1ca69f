import type { ByteReader } from './media-bytes.js';

/** The whole input in memory, for formats parsed as a unit; refuses inputs over `maxBytes`. */
export async function readAllBytes(reader: ByteReader, maxBytes: number): Promise<Buffer> {
  if (reader.sizeBytes > maxBytes)
    throw new RangeError(
      `the input is ${reader.sizeBytes} bytes, more than the ${maxBytes} read in one piece`,
    );
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < reader.sizeBytes) {
    const chunk = await reader.read(offset, reader.sizeBytes - offset);
    if (chunk.length === 0) break;
    parts.push(chunk);
    offset += chunk.length;
  }
  return Buffer.concat(parts, offset);
}
