import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { maxKeptPackets } from '../../src/media/packet-scan.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';

const execFileAsync = promisify(execFile);
const packets = 2_000_000;

let temp: MediaTempDir;
beforeAll(async () => {
  temp = await createMediaTempDir('guardian-packets-');
});
afterAll(() => temp.remove());

/** IVF (32-byte header, 12-byte frame headers) of one-byte frames: the most packets per byte any demuxer lists. */
function ivfOfTinyFrames(count: number): Buffer {
  const file = Buffer.alloc(32 + count * 13);
  file.write('DKIF', 0, 'latin1');
  file.writeUInt16LE(32, 6);
  file.write('VP80', 8, 'latin1');
  file.writeUInt16LE(16, 12);
  file.writeUInt16LE(16, 14);
  file.writeUInt32LE(1000, 16);
  file.writeUInt32LE(1, 20);
  file.writeUInt32LE(count, 24);
  for (let i = 0; i < count; i += 1) {
    const offset = 32 + i * 13;
    file.writeUInt32LE(1, offset);
    file.writeBigUInt64LE(BigInt(i), offset + 4);
  }
  return file;
}

it(`reads a packet table of ${packets} packets under a 256 MiB heap, keeping ${maxKeptPackets} and counting all`, async () => {
  const path = join(temp.dir, 'tiny-frames.ivf');
  const file = ivfOfTinyFrames(packets);
  await writeFile(path, file);
  // About 400 bytes of heap per packet row: the whole table would need ~800 MiB here.
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--max-old-space-size=256',
      '--import',
      'tsx',
      join(import.meta.dirname, 'read-packet-table.child.ts'),
      path,
      String(file.length),
    ],
    { maxBuffer: 1024 * 1024 },
  );
  const counts = JSON.parse(stdout) as Record<string, number>;
  expect(counts).toMatchObject({
    listedPackets: packets,
    presentPackets: packets,
    presentBytes: packets,
    keptPackets: maxKeptPackets,
  });
  expect(counts.keyframeTimes).toBeLessThanOrEqual(256);
}, 900_000);
