/**
 * The log's leaf hashes in this process, read once: leaves never change, so a proof or a new root reads only
 * the leaves appended since. Only committed leaves enter it; the monitor never uses it.
 */
export function createLeafHashCache() {
  const hashes: Buffer[] = [];
  return {
    /** The first `size` leaf hashes; `read(from, to)` supplies the ones not cached yet. */
    async upTo(size: number, read: (from: number, to: number) => Promise<Buffer[]>): Promise<Buffer[]> {
      const from = hashes.length;
      if (from < size) {
        // No lock across the read (a PGlite transaction may be waiting for this very cache): a concurrent
        // caller may have added some meanwhile, so only what is still missing is appended.
        const fresh = await read(from, size);
        if (hashes.length < size) hashes.push(...fresh.slice(hashes.length - from));
      }
      return hashes.slice(0, size);
    },
  };
}

export type LeafHashCache = ReturnType<typeof createLeafHashCache>;
