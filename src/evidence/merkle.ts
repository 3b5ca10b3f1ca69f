import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 §2.1 (as RFC 6962): SHA-256, leaf hash = H(0x00 || leaf), interior node =
 * H(0x01 || left || right), the empty tree's hash = H(""). Sizes and indices are plain numbers: a log stays far
 * below 2^53 entries, and only arithmetic (never 32-bit bit operators) touches them.
 */

const leafPrefix = Buffer.from([0x00]);
const nodePrefix = Buffer.from([0x01]);

export function hashLeaf(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(leafPrefix).update(leaf).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(nodePrefix).update(left).update(right).digest();
}

export const emptyTreeHash = (): Buffer => createHash('sha256').digest();

/** Largest power of two strictly below n (n ≥ 2): the size of the left subtree. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes (not leaves). */
export function rootHash(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return emptyTreeHash();
  // Bottom-up, carrying an odd last node up unchanged: the same tree MTH's recursion defines.
  let level: Buffer[] = leafHashes.map((hash) => Buffer.from(hash));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** A tree of `size` leaves that can give MTH of any leaf range [start, end) the proofs ask for. */
export interface SubtreeHashes {
  readonly size: number;
  hash(start: number, end: number): Buffer;
}

function subtrees(tree: readonly Uint8Array[] | SubtreeHashes): SubtreeHashes {
  if (!Array.isArray(tree)) return tree as SubtreeHashes;
  const leafHashes = tree as readonly Uint8Array[];
  return { size: leafHashes.length, hash: (start, end) => rootHash(leafHashes.slice(start, end)) };
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of these leaf hashes. */
export function inclusionProof(index: number, tree: readonly Uint8Array[] | SubtreeHashes): Buffer[] {
  const { size, hash: subtreeHash } = subtrees(tree);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), subtreeHash(start + k, end)]
      : [...path(m - k, start + k, end), subtreeHash(start, start + k)];
  };
  return path(index, 0, size);
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the tree of the first `oldSize` leaves is a prefix of this one. */
export function consistencyProof(oldSize: number, tree: readonly Uint8Array[] | SubtreeHashes): Buffer[] {
  const { size, hash: subtreeHash } = subtrees(tree);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > size)
    throw new RangeError(`size ${oldSize} is outside 0..${size}`);
  if (oldSize === 0 || oldSize === size) return [];
  const subproof = (m: number, start: number, end: number, complete: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return complete ? [] : [subtreeHash(start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, complete), subtreeHash(start + k, end)]
      : [...subproof(m - k, start + k, end, false), subtreeHash(start, start + k)];
  };
  return subproof(oldSize, 0, size, true);
}

const isHash = (value: Uint8Array) => value.length === 32;
const odd = (value: number) => value % 2 === 1;
const half = (value: number) => Math.floor(value / 2);

/** The inclusion proof verification of RFC 9162 §2.1.3.2. */
export function verifyInclusion(input: {
  leafIndex: number;
  treeSize: number;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
  rootHash: Uint8Array;
}): boolean {
  const { leafIndex, treeSize, leafHash, proof } = input;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0) return false;
  if (leafIndex >= treeSize || !isHash(leafHash) || !isHash(input.rootHash) || !proof.every(isHash))
    return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(input.rootHash);
}

/**
 * The consistency proof verification of RFC 9162 §2.1.4.2, with the cases the algorithm leaves to the caller:
 * equal sizes need equal roots and an empty proof, and the empty tree is a prefix of every tree.
 */
export function verifyConsistency(input: {
  oldSize: number;
  newSize: number;
  oldRoot: Uint8Array;
  newRoot: Uint8Array;
  proof: readonly Uint8Array[];
}): boolean {
  const { oldSize, newSize, proof } = input;
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0) return false;
  if (oldSize > newSize || !proof.every(isHash)) return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.from(input.oldRoot).equals(input.newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0 || !isHash(input.oldRoot) || !isHash(input.newRoot)) return false;
  const path = isPowerOfTwo(oldSize) ? [input.oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(input.oldRoot) && sr.equals(input.newRoot);
}

function isPowerOfTwo(n: number): boolean {
  let value = n;
  while (value > 1 && !odd(value)) value = half(value);
  return value === 1;
}

/**
 * Roots of several prefixes of one list of leaf hashes in a single pass (the monitor checks a head per size):
 * the perfect subtrees of the prefix, hashed together from the right, are exactly MTH's recursion.
 */
export function prefixRoots(leafHashes: readonly Uint8Array[], sizes: Iterable<number>): Map<number, Buffer> {
  const wanted = new Set(sizes);
  const roots = new Map<number, Buffer>();
  if (wanted.has(0)) roots.set(0, emptyTreeHash());
  const stack: { size: number; hash: Buffer }[] = [];
  leafHashes.forEach((leafHash, i) => {
    let node: { size: number; hash: Buffer } = { size: 1, hash: Buffer.from(leafHash) };
    while (stack.length > 0 && stack[stack.length - 1]!.size === node.size) {
      const left = stack.pop()!;
      node = { size: left.size * 2, hash: hashChildren(left.hash, node.hash) };
    }
    stack.push(node);
    if (!wanted.has(i + 1)) return;
    let root = stack[stack.length - 1]!.hash;
    for (let j = stack.length - 2; j >= 0; j -= 1) root = hashChildren(stack[j]!.hash, root);
    roots.set(i + 1, root);
  });
  return roots;
}
