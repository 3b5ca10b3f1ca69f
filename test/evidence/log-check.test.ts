import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { treeHeadFormat, signTreeHead } from '../../src/evidence/tree-head.js';
import { createTransparencyLogRepository } from '../../src/repositories/transparency-log.repository.js';
import { checkTransparencyLog, type LogCheckResult } from '../../src/services/log-monitor.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { openEvidenceWorld, type EvidenceWorld } from './evidence-fixtures.js';

class RolledBack extends Error {}

/**
 * Plays an attacker with database access (who can disable the append-only triggers) inside a transaction that
 * is rolled back, so each scenario starts from the same intact log; returns what `log check` reports.
 */
async function asAttacker(db: Kysely<Database>, tamper: (trx: Transaction<Database>) => Promise<void>) {
  let result: LogCheckResult | undefined;
  await db
    .transaction()
    .execute(async (trx) => {
      for (const table of ['log_leaves', 'log_tree_heads', 'audit_events'])
        await sql`alter table ${sql.table(table)} disable trigger user`.execute(trx);
      await tamper(trx);
      result = await checkTransparencyLog({ log: createTransparencyLogRepository({ db: trx }) });
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  if (!result) throw new Error('the check did not run');
  return result;
}

const kinds = (result: LogCheckResult) => [...new Set(result.problems.map((problem) => problem.kind))].sort();

describeEachImplementation(
  'log check against an attacker with database access',
  databaseImplementations(),
  (implementation) => {
    let database: TestDatabase;
    let world: EvidenceWorld;
    const leafCount = 6;

    beforeAll(async () => {
      database = await implementation.open();
      world = await openEvidenceWorld(database, testLogger());
      for (let i = 0; i < leafCount; i += 1) {
        const { analysisId } = await world.finishedAnalysis();
        await world.transparencyLog.record(analysisId);
      }
    });

    afterAll(async () => {
      await world?.close();
      await database?.destroy();
    });

    const leafStatement = async (trx: Transaction<Database>, index: number) =>
      (
        await sql<{
          statement: string;
        }>`select statement from log_leaves where leaf_index = ${index}`.execute(trx)
      ).rows[0]!.statement;

    it('passes the intact log', async () => {
      const result = await asAttacker(database.db, async () => {});
      expect(result).toMatchObject({ ok: true, leaves: leafCount, firstBadIndex: null });
      expect(result.heads).toBe(leafCount);
    });

    it('finds an edited statement whose leaf hash was not recomputed', async () => {
      const result = await asAttacker(database.db, async (trx) => {
        const edited = (await leafStatement(trx, 3)).replace('"completedAt":"2', '"completedAt":"1');
        await sql`update log_leaves set statement = ${edited} where leaf_index = 3`.execute(trx);
      });
      expect(result.firstBadIndex).toBe(3);
      expect(kinds(result)).toEqual(['head-root', 'leaf-altered']);
    });

    it('finds an edited statement with a recomputed leaf hash, by its signature and by every later head', async () => {
      const result = await asAttacker(database.db, async (trx) => {
        const edited = (await leafStatement(trx, 3)).replace('"completedAt":"2', '"completedAt":"1');
        const leafHash = createHash('sha256')
          .update(Buffer.from([0]))
          .update(edited)
          .digest('hex');
        await sql`update log_leaves set statement = ${edited}, leaf_hash = ${leafHash} where leaf_index = 3`.execute(
          trx,
        );
      });
      expect(result.firstBadIndex).toBe(3);
      expect(kinds(result)).toEqual(['head-root', 'leaf-signature']);
    });

    it('finds a removed leaf in the middle and at the end', async () => {
      const middle = await asAttacker(database.db, async (trx) => {
        await sql`delete from log_leaves where leaf_index = 2`.execute(trx);
      });
      expect(middle.firstBadIndex).toBe(2);
      expect(kinds(middle)).toContain('leaf-missing');
      const renumbered = await asAttacker(database.db, async (trx) => {
        await sql`delete from log_leaves where leaf_index = 2`.execute(trx);
        await sql`update log_leaves set leaf_index = leaf_index - 1 where leaf_index > 2`.execute(trx);
      });
      expect(renumbered.firstBadIndex).toBe(2);
      expect(kinds(renumbered)).toEqual(['head-beyond-log', 'head-root']);
      const last = await asAttacker(database.db, async (trx) => {
        await sql`delete from log_leaves where leaf_index = ${leafCount - 1}`.execute(trx);
      });
      expect(last.firstBadIndex).toBe(leafCount - 1);
      expect(kinds(last)).toEqual(['head-beyond-log']);
    });

    it('finds reordered leaves', async () => {
      const result = await asAttacker(database.db, async (trx) => {
        await sql`update log_leaves set leaf_index = 1000 where leaf_index = 1`.execute(trx);
        await sql`update log_leaves set leaf_index = 1 where leaf_index = 4`.execute(trx);
        await sql`update log_leaves set leaf_index = 4 where leaf_index = 1000`.execute(trx);
      });
      expect(result.firstBadIndex).toBe(1);
      expect(kinds(result)).toEqual(['head-root']);
    });

    it('finds rewritten history: an edited head, and an older head signed again after newer ones', async () => {
      const edited = await asAttacker(database.db, async (trx) => {
        await sql`update log_tree_heads set root_hash = repeat('a', 64) where tree_size = 2`.execute(trx);
      });
      expect(kinds(edited)).toEqual(['head-root', 'head-signature']);
      expect(edited.firstBadIndex).toBe(1);
      const rollback = await asAttacker(database.db, async (trx) => {
        const key = world.keyring.current();
        const head = signTreeHead(
          {
            format: treeHeadFormat,
            treeSize: 2,
            rootHash: (
              await sql<{
                root_hash: string;
              }>`select root_hash from log_tree_heads where tree_size = 2`.execute(trx)
            ).rows[0]!.root_hash,
            timestamp: new Date().toISOString(),
            auditHead: null,
            keyId: key.keyId,
          },
          key.privateKey,
        );
        await sql`insert into log_tree_heads (tree_size, root_hash, signed_at, key_id, signature)
        values (2, ${head.rootHash}, ${new Date(head.timestamp)}, ${head.keyId}, ${head.signature})`.execute(
          trx,
        );
      });
      expect(kinds(rollback)).toEqual(['head-rollback']);
    });

    it('finds a fork: two validly signed heads of one size with different roots', async () => {
      const result = await asAttacker(database.db, async (trx) => {
        const key = world.keyring.current();
        const head = signTreeHead(
          {
            format: treeHeadFormat,
            treeSize: leafCount,
            rootHash: 'b'.repeat(64),
            timestamp: new Date().toISOString(),
            auditHead: null,
            keyId: key.keyId,
          },
          key.privateKey,
        );
        await sql`insert into log_tree_heads (tree_size, root_hash, signed_at, key_id, signature)
        values (${leafCount}, ${head.rootHash}, ${new Date(head.timestamp)}, ${head.keyId}, ${head.signature})`.execute(
          trx,
        );
      });
      expect(kinds(result)).toEqual(['fork', 'head-root']);
      expect(result.problems.find((problem) => problem.kind === 'fork')?.message).toMatch(
        `size ${leafCount}`,
      );
    });
    it('finds a report or band edited after its statement was signed, naming the leaf and the analysis', async () => {
      const { rows } = await sql<{
        analysis_id: string;
      }>`select analysis_id from log_leaves where leaf_index = 2`.execute(database.db);
      const analysisId = rows[0]!.analysis_id;
      for (const edit of [
        sql`update analyses set report = jsonb_set(report, '{coverage}', '0.75'::jsonb) where id = ${analysisId}`,
        sql`update analyses set band = 'inconclusive' where id = ${analysisId}`,
      ]) {
        const result = await asAttacker(database.db, async (trx) => void (await edit.execute(trx)));
        expect(kinds(result)).toEqual(['report-altered']);
        expect(result.firstBadIndex).toBe(2);
        expect(result.problems[0]!.message).toContain(`report of analysis ${analysisId}`);
      }
    });

    // Last: it signs a head that records the audit chain, which the cases above do not expect.
    it('finds an audit chain rewritten under a signed tree head, naming the entry the head signed', async () => {
      await world.audit.append({
        orgId: null,
        actor: { type: 'cli', id: null },
        action: 'test.event',
        outcome: 'success',
      });
      const head = await world.transparencyLog.signTreeHeadIfMoved();
      const seq = head!.auditHead!.seq;
      expect((await asAttacker(database.db, async () => {})).ok).toBe(true);
      const result = await asAttacker(database.db, async (trx) => {
        await sql`update audit_events set hash = repeat('c', 64) where seq = ${seq}`.execute(trx);
      });
      expect(kinds(result)).toEqual(['audit-head']);
      expect(result.problems[0]!.message).toContain(
        `signed audit entry ${seq} with hash ${head!.auditHead!.hash}`,
      );
      const removed = await asAttacker(database.db, async (trx) => {
        await sql`delete from audit_events where seq = ${seq}`.execute(trx);
      });
      expect(removed.problems[0]!.message).toContain(`the audit log's entry ${seq} is missing`);
    });
  },
);
