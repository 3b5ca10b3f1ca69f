import { emptyTreeHash, hashChildren, type SubtreeHashes } from './merkle.js';

const hashBytes = 32;

/** Fixed-size hashes in one growing buffer: 32 bytes each, no object per hash. */
class HashList {
  #bytes = Buffer.alloc(hashBytes * 64);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * hashBytes > this.#bytes.length) {
      const grown = Buffer.alloc(this.#bytes.length * 2);
      this.#bytes.copy(grown);
      this.#bytes = grown;
    }
    this.#bytes.set(hash, this.length * hashBytes);
    this.length += 1;
  }

  at(index: number): Buffer {
    return this.#bytes.subarray(index * hashBytes, (index + 1) * hashBytes);
  }
}

/**
 * Every complete subtree hash of an append-only tree, kept level by level as leaves arrive (about 64 bytes per
 * leaf). Any range hash the RFC 9162 proofs need is then a fold of O(log n) stored subtrees, not O(n) hashing.
 */
export class MerkleLevels {
  readonly #levels: HashList[] = [new HashList()];

  get size(): number {
    return this.#levels[0]!.length;
  }

  push(leafHash: Uint8Array): void {
    this.#levels[0]!.push(leafHash);
    for (let level = 0; this.#levels[level]!.length % 2 === 0; level += 1) {
      const hashes = this.#levels[level]!;
      if (!this.#levels[level + 1]) this.#levels.push(new HashList());
      this.#levels[level + 1]!.push(hashChildren(hashes.at(hashes.length - 2), hashes.at(hashes.length - 1)));
    }
  }

  /** The complete subtrees covering [start, end), largest first, each as { size, hash }. */
  #pieces(start: number, end: number): { size: number; hash: Buffer }[] {
    if (start < 0 || end > this.size || start > end)
      throw new RangeError(`range ${start}..${end} outside ${this.size}`);
    const pieces: { size: number; hash: Buffer }[] = [];
    for (let at = start; at < end;) {
      let level = 0;
      while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= end) level += 1;
      pieces.push({ size: 2 ** level, hash: this.#levels[level]!.at(at / 2 ** level) });
      at += 2 ** level;
    }
    return pieces;
  }

  /** MTH of leaves [start, end); `start` aligned as in the proofs' recursion (or 0). */
  hash(start: number, end: number): Buffer {
    return fold(this.#pieces(start, end));
  }

  /** The root of the first `size` leaves with one more leaf after them, without storing it. */
  rootWith(size: number, leafHash: Uint8Array): Buffer {
    const pieces = this.#pieces(0, size);
    let next: { size: number; hash: Buffer } = { size: 1, hash: Buffer.from(leafHash) };
    while (pieces.length > 0 && pieces[pieces.length - 1]!.size === next.size) {
      const left = pieces.pop()!;
      next = { size: left.size * 2, hash: hashChildren(left.hash, next.hash) };
    }
    return fold([...pieces, next]);
  }

  /** The tree of the first `size` leaves, for the proof functions. */
  view(size: number): SubtreeHashes {
    if (size > this.size) throw new RangeError(`size ${size} beyond ${this.size} leaves`);
    return { size, hash: (start, end) => this.hash(start, end) };
  }
}

/** Subtrees of decreasing size, hashed together from the right: MTH's own structure. */
function fold(pieces: { hash: Buffer }[]): Buffer {
  if (pieces.length === 0) return emptyTreeHash();
  let root = pieces[pieces.length - 1]!.hash;
  for (let i = pieces.length - 2; i >= 0; i -= 1) root = hashChildren(pieces[i]!.hash, root);
  return root;
}
