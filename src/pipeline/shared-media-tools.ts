import type { MediaTools, PacketInfo } from '../media/media-probe.js';

/** MediaTools for one analysis run: the packet table is read once however many detectors need it. */
export function withSharedPackets(tools: MediaTools): MediaTools {
  const tables = new Map<string, Promise<PacketInfo[]>>();
  return {
    versions: () => tools.versions(),
    probe: (input, signal) => tools.probe(input, signal),
    packets(input, streamIndex, signal) {
      const key = `${streamIndex}\u0000${input}`;
      let table = tables.get(key);
      if (!table) {
        table = tools.packets(input, streamIndex, signal);
        tables.set(key, table);
      }
      return table;
    },
    keyframes: (input, options, signal) => tools.keyframes(input, options, signal),
    window: (input, options, signal) => tools.window(input, options, signal),
  };
}
