import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import { verifyConsistency, verifyInclusion } from '../../src/evidence/merkle.js';
import { verifyEvidenceBundle } from '../../src/evidence/verify-bundle.js';
import { checkTransparencyLog } from '../../src/services/log-monitor.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { openEvidenceWorld, type EvidenceWorld } from './evidence-fixtures.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describeEachImplementation('transparency log', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let world: EvidenceWorld;

  beforeAll(async () => {
    database = await implementation.open();
    world = await openEvidenceWorld(database, testLogger());
  });

  afterAll(async () => {
    await world?.close();
    await database?.destroy();
  });

  const check = () => checkTransparencyLog({ log: world.repository });

  it('logs one leaf per analysis, however often and however concurrently it is recorded', async () => {
    const { analysisId } = await world.finishedAnalysis();
    const leaves = await Promise.all([1, 2, 3, 4].map(() => world.transparencyLog.record(analysisId)));
    expect(new Set(leaves.map((leaf) => leaf?.leaf_index)).size).toBe(1);
    expect(await world.transparencyLog.record(analysisId)).toEqual(leaves[0]);
    const stored = await database.db
      .withTables<{ log_leaves: { analysis_id: string } }>()
      .selectFrom('log_leaves')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('analysis_id', '=', analysisId)
      .executeTakeFirstOrThrow();
    expect(Number(stored.count)).toBe(1);
  });

  it('serialises concurrent appends into one gapless log with a signed head after each', async () => {
    const before = await world.repository.size();
    const finished = await Promise.all(Array.from({ length: 12 }, () => world.finishedAnalysis()));
    const leaves = await Promise.all(
      finished.map(({ analysisId }) => world.transparencyLog.record(analysisId)),
    );
    const indices = leaves.map((leaf) => Number(leaf?.leaf_index)).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: 12 }, (_, i) => before + i));
    const result = await check();
    expect(result).toMatchObject({ ok: true, leaves: before + 12, firstBadIndex: null, problems: [] });
    expect(result.heads).toBeGreaterThanOrEqual(before + 12);
  });

  it.skipIf(implementation.name === 'pglite')(
    'two processes (own pools, own caches) append to one gapless log',
    async () => {
      const second = await database.reopen();
      const other = await openEvidenceWorld(second, testLogger(), { dataDir: world.dataDir });
      try {
        const finished = await Promise.all(Array.from({ length: 8 }, () => world.finishedAnalysis()));
        await Promise.all(
          finished.map(({ analysisId }, i) =>
            (i % 2 === 0 ? world : other).transparencyLog.record(analysisId),
          ),
        );
        expect(await check()).toMatchObject({ ok: true, problems: [] });
        for (const process of [world, other]) {
          const head = (await process.transparencyLog.latestTreeHead())!;
          const proof = await process.transparencyLog.inclusionProof(head.treeSize - 1, head.treeSize);
          const verified = verifyInclusion({
            leafIndex: head.treeSize - 1,
            treeSize: head.treeSize,
            leafHash: Buffer.from(proof.leafHash, 'hex'),
            proof: proof.hashes.map((hash) => Buffer.from(hash, 'hex')),
            rootHash: Buffer.from(head.rootHash, 'hex'),
          });
          expect(verified).toBe(true);
        }
      } finally {
        await second.close();
      }
    },
  );

  it('serves inclusion proofs to the latest head and consistency proofs between heads', async () => {
    const head = await world.transparencyLog.latestTreeHead();
    expect(head).not.toBeNull();
    const root = Buffer.from(head!.rootHash, 'hex');
    for (let leafIndex = 0; leafIndex < head!.treeSize; leafIndex += 1) {
      const proof = await world.transparencyLog.inclusionProof(leafIndex, head!.treeSize);
      const input = { leafIndex, treeSize: head!.treeSize, leafHash: Buffer.from(proof.leafHash, 'hex') };
      const hashes = proof.hashes.map((hash) => Buffer.from(hash, 'hex'));
      expect(verifyInclusion({ ...input, proof: hashes, rootHash: root })).toBe(true);
    }
    const heads = await world.repository.readTreeHeads(0, 1000);
    const older = heads[2]!;
    const proof = await world.transparencyLog.consistencyProof(Number(older.tree_size), head!.treeSize);
    expect(
      verifyConsistency({
        oldSize: Number(older.tree_size),
        newSize: head!.treeSize,
        oldRoot: Buffer.from(older.root_hash, 'hex'),
        newRoot: root,
        proof: proof.hashes.map((hash) => Buffer.from(hash, 'hex')),
      }),
    ).toBe(true);
    await expect(world.transparencyLog.inclusionProof(0, head!.treeSize + 1)).rejects.toMatchObject({
      status: 400,
      code: 'tree-size-too-large',
    });
    await expect(world.transparencyLog.consistencyProof(3, 2)).rejects.toMatchObject({ status: 400 });
  });

  it('builds a bundle that verifies offline, with the media and the trusted key', async () => {
    const { orgId, analysisId, content } = await world.finishedAnalysis('the media bytes');
    const bundle = await world.evidence.bundle(orgId, analysisId);
    const fileText = canonicalJson(bundle);
    const trustedKeyIds = [world.keyring.current().keyId];
    const result = await verifyEvidenceBundle(JSON.parse(fileText), {
      fileText,
      mediaSha256: sha256(content),
      trustedKeyIds,
    });
    expect(result.checks.filter((entry) => entry.status !== 'passed').map((entry) => entry.name)).toEqual([
      'anchors',
    ]);
    expect(result.ok).toBe(true);
    expect(bundle.treeHead.auditHead).not.toBeUndefined();
    expect((await verifyEvidenceBundle(bundle, { mediaSha256: sha256('other media') })).ok).toBe(false);
    await expect(world.evidence.bundle(orgId.replace(/^.{8}/, '00000000'), analysisId)).rejects.toMatchObject(
      {
        status: 404,
      },
    );
  });

  it('the timer logs finished analyses that have no statement yet, then has nothing to do', async () => {
    const missed = await world.finishedAnalysis();
    expect(await world.repository.findLeafByAnalysis(missed.analysisId)).toBeNull();
    const first = await world.transparencyLog.tick();
    expect(first.recorded).toBeGreaterThanOrEqual(1);
    expect(await world.repository.findLeafByAnalysis(missed.analysisId)).not.toBeNull();
    expect(await world.transparencyLog.tick()).toEqual({ recorded: 0, head: null });
  });

  it('anchors the audit chain: a new audit entry gives a new head naming it', async () => {
    await world.audit.append({
      orgId: null,
      actor: { type: 'system', id: null },
      action: 'test.event',
      outcome: 'success',
    });
    const head = await world.transparencyLog.signTreeHeadIfMoved();
    expect(head?.auditHead?.seq).toBeGreaterThan(0);
    expect(await world.transparencyLog.signTreeHeadIfMoved()).toBeNull();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of leaves and tree heads, and deleting a key', async () => {
    for (const statement of [
      sql`update log_leaves set org_id = org_id`,
      sql`delete from log_leaves`,
      sql`truncate log_leaves`,
      sql`update log_tree_heads set root_hash = root_hash`,
      sql`delete from log_tree_heads`,
      sql`delete from log_keys`,
      sql`update log_keys set public_key = public_key`,
    ])
      await expect(statement.execute(database.db)).rejects.toThrow(/append-only|only retiring/);
  });

  it('rotates the key: old bundles still verify, new heads use the new key, the old one is listed retired', async () => {
    const { orgId, analysisId } = await world.finishedAnalysis();
    await world.transparencyLog.record(analysisId);
    const oldKeyId = world.keyring.current().keyId;
    const rotated = await world.keyring.rotate();
    expect(rotated.previousKeyId).toBe(oldKeyId);
    const bundle = await world.evidence.bundle(orgId, analysisId);
    expect(bundle.statement.keyId).toBe(oldKeyId);
    const fresh = await world.finishedAnalysis();
    const freshBundle = await world.evidence.bundle(fresh.orgId, fresh.analysisId);
    expect(freshBundle.treeHead.keyId).toBe(rotated.keyId);
    expect((await verifyEvidenceBundle(bundle)).ok).toBe(true);
    expect((await verifyEvidenceBundle(freshBundle, { trustedKeyIds: [oldKeyId, rotated.keyId] })).ok).toBe(
      true,
    );
    const keys = await world.transparencyLog.publicKeys();
    expect(keys.find((key) => key.keyId === oldKeyId)?.retiredAt).toBeInstanceOf(Date);
    expect(keys.find((key) => key.keyId === rotated.keyId)?.retiredAt).toBeNull();
    expect((await check()).ok).toBe(true);
  });
});
