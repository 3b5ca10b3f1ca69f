import type { MediaTools } from '../media/media-probe.js';
import type { PacketTable } from '../media/packet-scan.js';

/**
 * MediaTools for one analysis run: the packet table, and each audio span, is read once however many checks
 * and detectors need it.
 */
export function withSharedPackets(tools: MediaTools): MediaTools {
  const tables = new Map<string, Promise<PacketTable>>();
  const spans = new Map<string, Promise<Float32Array>>();
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
    audio(input, options, signal) {
      const { streamIndex, startSeconds, durationSeconds, sampleRate } = options;
      const key = `${streamIndex}\u0000${startSeconds}\u0000${durationSeconds}\u0000${sampleRate}\u0000${input}`;
      let samples = spans.get(key);
      if (!samples) {
        samples = tools.audio(input, options, signal);
        spans.set(key, samples);
      }
      return samples;
    },
  };
}
