import type { MediaTools } from '../media/media-probe.js';
import type { PacketTable } from '../media/packet-scan.js';

/** MediaTools for one analysis run: the packet table is read once however many checks and detectors need it. */
export function withSharedPackets(tools: MediaTools): MediaTools {
  const tables = new Map<string, Promise<PacketTable>>();
  return {
    versions: () => tools.versions(),
    probe: (input, signal) => tools.probe(input, signal),
    packets(input, streamIndex, options, signal) {
      const key = `${streamIndex}\u0000${options.sizeBytes}\u0000${input}`;
      let table = tables.get(key);
      if (!table) {
        table = tools.packets(input, streamIndex, options, signal);
        tables.set(key, table);
      }
      return table;
    },
    decodesAt: (input, request, signal) => tools.decodesAt(input, request, signal),
    keyframes: (input, options, signal) => tools.keyframes(input, options, signal),
    window: (input, options, signal) => tools.window(input, options, signal),
  };
}
