import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  emptyTreeHash,
  hashChildren,
  hashLeaf,
  inclusionProof,
  prefixRoots,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/evidence/merkle.js';
import { MerkleLevels } from '../../src/evidence/merkle-levels.js';

// The reference vectors of RFC 6962 / Certificate Transparency, as published in the test data of
// transparency-dev/merkle (proof/verify_test.go) and google/certificate-transparency-go.
const leaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const roots = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// [leaf index (0-based), tree size, audit path]
const inclusionVectors: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
// [old size, new size, proof]
const consistencyVectors: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const leafHashes = leaves.map((leaf) => hashLeaf(Buffer.from(leaf, 'hex')));
const hex = (hashes: Buffer[]) => hashes.map((hash) => hash.toString('hex'));
const unhex = (hashes: string[]) => hashes.map((hash) => Buffer.from(hash, 'hex'));
const root = (size: number) => Buffer.from(roots[size - 1]!, 'hex');

/** Every single-bit flip of every proof element, every dropped and every extra element. */
function corruptions(proof: Buffer[]): Buffer[][] {
  const variants: Buffer[][] = [];
  proof.forEach((_, i) => {
    for (let bit = 0; bit < 256; bit += 37) {
      const copy = proof.map((hash) => Buffer.from(hash));
      copy[i]![bit >> 3]! ^= 1 << (bit & 7);
      variants.push(copy);
    }
    variants.push(proof.filter((__, j) => j !== i));
  });
  variants.push([...proof, emptyTreeHash()], [emptyTreeHash(), ...proof]);
  return variants;
}

describe('RFC 9162 Merkle tree against the CT reference vectors', () => {
  it('hashes leaves and nodes with their domain prefixes', () => {
    expect(hashLeaf(Buffer.alloc(0)).toString('hex')).toBe(roots[0]);
    const expected = createHash('sha256')
      .update(Buffer.from([1]))
      .update(leafHashes[0]!)
      .update(leafHashes[1]!);
    expect(hashChildren(leafHashes[0]!, leafHashes[1]!)).toEqual(expected.digest());
    expect(rootHash([]).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it.each(roots.map((expected, i) => [i + 1, expected] as const))('root of size %i', (size, expected) => {
    expect(rootHash(leafHashes.slice(0, size)).toString('hex')).toBe(expected);
  });

  it.each(inclusionVectors)('inclusion proof of leaf %i in size %i', (index, size, expected) => {
    const tree = leafHashes.slice(0, size);
    expect(hex(inclusionProof(index, tree))).toEqual(expected);
    const input = { leafIndex: index, treeSize: size, leafHash: leafHashes[index]!, rootHash: root(size) };
    expect(verifyInclusion({ ...input, proof: unhex(expected) })).toBe(true);
    for (const proof of corruptions(unhex(expected)))
      expect(verifyInclusion({ ...input, proof })).toBe(false);
    expect(verifyInclusion({ ...input, leafIndex: index + 1, proof: unhex(expected) })).toBe(false);
    expect(verifyInclusion({ ...input, treeSize: size * 2, proof: unhex(expected) })).toBe(false);
    expect(verifyInclusion({ ...input, rootHash: emptyTreeHash(), proof: unhex(expected) })).toBe(false);
  });

  it.each(consistencyVectors)('consistency proof from size %i to %i', (oldSize, newSize, expected) => {
    expect(hex(consistencyProof(oldSize, leafHashes.slice(0, newSize)))).toEqual(expected);
    const input = { oldSize, newSize, oldRoot: root(oldSize), newRoot: root(newSize) };
    expect(verifyConsistency({ ...input, proof: unhex(expected) })).toBe(true);
    if (expected.length === 0) return;
    for (const proof of corruptions(unhex(expected)))
      expect(verifyConsistency({ ...input, proof })).toBe(false);
    expect(verifyConsistency({ ...input, proof: [] })).toBe(false);
    expect(
      verifyConsistency({ ...input, oldRoot: input.newRoot, newRoot: input.oldRoot, proof: unhex(expected) }),
    ).toBe(false);
    expect(verifyConsistency({ ...input, oldSize: oldSize + 1, proof: unhex(expected) })).toBe(false);
    expect(verifyConsistency({ ...input, newSize: newSize * 2, proof: unhex(expected) })).toBe(false);
  });

  it('refuses proofs for impossible positions', () => {
    const someHash = leafHashes[1]!;
    for (const [leafIndex, treeSize] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [-1, 3],
    ] as const)
      expect(
        verifyInclusion({ leafIndex, treeSize, leafHash: someHash, proof: [], rootHash: someHash }),
      ).toBe(false);
    const consistent = { oldRoot: someHash, newRoot: someHash, proof: [] };
    expect(verifyConsistency({ ...consistent, oldSize: 2, newSize: 1 })).toBe(false);
    expect(verifyConsistency({ ...consistent, oldSize: 0, newSize: 5 })).toBe(true);
    expect(() => inclusionProof(3, leafHashes.slice(0, 3))).toThrow(RangeError);
  });
});

describe('RFC 9162 Merkle tree properties (fast-check)', () => {
  const treeOf = (size: number) =>
    Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`, 'utf8')));

  it('every inclusion proof verifies, and fails for any other leaf', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: size - 1 }))),
        ([size, index]) => {
          const tree = treeOf(size);
          const proof = inclusionProof(index, tree);
          const input = { leafIndex: index, treeSize: size, rootHash: rootHash(tree), proof };
          expect(verifyInclusion({ ...input, leafHash: tree[index]! })).toBe(true);
          expect(verifyInclusion({ ...input, leafHash: hashLeaf(Buffer.from('other')) })).toBe(false);
          if (size > 1)
            expect(verifyInclusion({ ...input, leafHash: tree[(index + 1) % size]! })).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies, and fails against a tree with one leaf changed', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: size }), fc.nat({ max: size - 1 }))),
        ([size, oldSize, changed]) => {
          const tree = treeOf(size);
          const proof = consistencyProof(oldSize, tree);
          const oldRoot = rootHash(tree.slice(0, oldSize));
          const input = { oldSize, newSize: size, oldRoot, newRoot: rootHash(tree), proof };
          expect(verifyConsistency(input)).toBe(true);
          // A leaf changed inside the old tree breaks the old root; one after it, the new root only.
          const forged = tree.map((hash, i) => (i === changed ? hashLeaf(Buffer.from('forged')) : hash));
          if (oldSize > 0 && oldSize < size)
            expect(verifyConsistency({ ...input, newRoot: rootHash(forged) })).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prefix roots computed in one pass equal the root of each prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.nat({ max: 200 })), (size, picks) => {
        const tree = treeOf(size);
        const sizes = picks.map((pick) => pick % (size + 1));
        const roots = prefixRoots(tree, sizes);
        for (const prefix of sizes) expect(roots.get(prefix)).toEqual(rootHash(tree.slice(0, prefix)));
      }),
    );
  });

  it('the root of a tree equals the root rebuilt from any leaf and its proof', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), (size, seed) => {
        const tree = treeOf(size);
        const index = seed % size;
        expect(
          verifyInclusion({
            leafIndex: index,
            treeSize: size,
            leafHash: tree[index]!,
            proof: inclusionProof(index, tree),
            rootHash: rootHash(tree),
          }),
        ).toBe(true);
      }),
    );
  });
});

describe('stored subtree levels give the same roots and proofs as the plain definition (fast-check)', () => {
  const treeOf = (size: number) =>
    Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`, 'utf8')));

  it('roots, the root with one more leaf, inclusion and consistency proofs at every size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 260 }), fc.nat(), fc.nat(), (size, a, b) => {
        const tree = treeOf(size + 1);
        const levels = new MerkleLevels();
        for (const leaf of tree.slice(0, size)) levels.push(leaf);
        const view = levels.view(size);
        expect(view.hash(0, size)).toEqual(rootHash(tree.slice(0, size)));
        expect(levels.rootWith(size, tree[size]!)).toEqual(rootHash(tree));
        if (size === 0) return;
        const prefix = tree.slice(0, size);
        expect(inclusionProof(a % size, view)).toEqual(inclusionProof(a % size, prefix));
        expect(consistencyProof(b % (size + 1), view)).toEqual(consistencyProof(b % (size + 1), prefix));
      }),
      { numRuns: 300 },
    );
  });
});
