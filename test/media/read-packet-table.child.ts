// Run as a child under a small heap by packet-table-memory.test.ts: reads one stream's packet table and prints its counts.
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';

const [path, size] = process.argv.slice(2);
if (!path || !size) throw new Error('usage: read-packet-table.child.ts FILE SIZE_BYTES');
const tools = await createFfmpegMediaTools();
const table = await tools.packets(path, 0, { sizeBytes: Number(size) });
process.stdout.write(
  JSON.stringify({
    listedPackets: table.listedPackets,
    presentPackets: table.presentPackets,
    presentBytes: table.presentBytes,
    presentKeyframes: table.presentKeyframes,
    keptPackets: table.packets.length,
    keyframeTimes: table.keyframeTimes.length,
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  }),
);
