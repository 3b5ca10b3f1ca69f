import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Analysis } from '../../src/db/schema.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { openEvidenceWorld, type EvidenceWorld } from './evidence-fixtures.js';

const refusal = { status: 500, code: 'report-integrity' };

describeEachImplementation(
  'stored reports checked against their signed statements before they are served',
  databaseImplementations(),
  (implementation) => {
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

    /** A finished, logged analysis as the API reads it. */
    async function logged(): Promise<{ orgId: string; analysis: () => Promise<Analysis> }> {
      const { orgId, analysisId } = await world.finishedAnalysis();
      await world.transparencyLog.record(analysisId);
      return { orgId, analysis: async () => (await world.analyses.findById(orgId, analysisId))! };
    }

    it('passes an intact report, and one not logged yet (nothing to check against)', async () => {
      const { analysis } = await logged();
      await expect(world.reportIntegrity.check(await analysis())).resolves.toBeUndefined();
      const { orgId, analysisId } = await world.finishedAnalysis();
      const unlogged = (await world.analyses.findById(orgId, analysisId))!;
      await expect(world.reportIntegrity.check(unlogged)).resolves.toBeUndefined();
    });

    it('refuses a report with one value changed, in the check and in the evidence bundle', async () => {
      const { orgId, analysis } = await logged();
      const { id } = await analysis();
      await sql`update analyses set report = jsonb_set(report, '{reasons,0}', '"these checks found indicators"'::jsonb) where id = ${id}`.execute(
        database.db,
      );
      await expect(world.reportIntegrity.check(await analysis())).rejects.toMatchObject(refusal);
      await expect(world.evidence.bundle(orgId, id)).rejects.toMatchObject(refusal);
    });

    it('refuses a band column that no longer matches the report', async () => {
      const { analysis } = await logged();
      await sql`update analyses set band = 'indicators_found' where id = ${(await analysis()).id}`.execute(
        database.db,
      );
      await expect(world.reportIntegrity.check(await analysis())).rejects.toMatchObject(refusal);
    });

    it('refuses a report whose statement was edited in the log (leaf hash or signature no longer match)', async () => {
      const { analysis } = await logged();
      const { id } = await analysis();
      await database.db.transaction().execute(async (trx) => {
        await sql`alter table log_leaves disable trigger user`.execute(trx);
        await sql`update log_leaves set statement = replace(statement, '"completedAt":"2', '"completedAt":"1') where analysis_id = ${id}`.execute(
          trx,
        );
        await sql`alter table log_leaves enable trigger user`.execute(trx);
      });
      await expect(world.reportIntegrity.check(await analysis())).rejects.toMatchObject(refusal);
    });
  },
);
