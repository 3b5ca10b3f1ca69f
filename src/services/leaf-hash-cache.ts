import { MerkleLevels } from '../evidence/merkle-levels.js';
import type { SubtreeHashes } from '../evidence/merkle.js';

/**
 * The log's tree in this process, read once: leaves never change, so a root or a proof reads only the leaves
 * appended since, and costs O(log n) hashing. Only committed leaves enter it; the monitor never uses it.
 */
export function createLeafHashCache() {
  const levels = new MerkleLevels();
  return {
    /** The tree of the first `size` leaves; `read(from, to)` supplies leaf hashes not cached yet. */
    async upTo(size: number, read: (from: number, to: number) => Promise<Buffer[]>): Promise<SubtreeHashes> {
      const from = levels.size;
      if (from < size) {
        // No lock across the read (a PGlite transaction may be waiting for this very cache): a concurrent
        // caller may have added some meanwhile, so only what is still missing is appended.
        const fresh = await read(from, size);
        for (const hash of fresh.slice(levels.size - from)) levels.push(hash);
      }
      return levels.view(size);
    },
    /** Root of the first `size` leaves and one more after them. */
    rootWith: (size: number, leafHash: Buffer) => levels.rootWith(size, leafHash),
  };
}

export type LeafHashCache = ReturnType<typeof createLeafHashCache>;
