import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrator.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

describeEachImplementation('migrations', databaseImplementations(), (implementation) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await implementation.open();
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('are idempotent: a second run, also from a new handle, applies nothing', async () => {
    expect(await migrateToLatest(database.db)).toEqual([]);
    await database.close();
    database = await database.reopen();
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it('create every table of the schema', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name
    `.execute(database.db);
    expect(rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['analyses', 'api_keys', 'jobs', 'media', 'organisations']),
    );
  });

  it('refuse values outside the enums', async () => {
    const orgId = randomUUID();
    await database.db
      .insertInto('organisations')
      .values({ id: orgId, name: `enum-${orgId}` })
      .execute();
    const key = { id: randomUUID(), org_id: orgId, name: 'k', prefix: 'p', key_hash: randomUUID() };
    await expect(
      database.db
        .insertInto('api_keys')
        .values({ ...key, role: 'root' as never })
        .execute(),
    ).rejects.toThrow(/api_keys_role_check/);
    await expect(
      database.db
        .insertInto('jobs')
        .values({
          id: randomUUID(),
          name: 'n',
          dedupe_key: 'd',
          payload: '{}',
          status: 'lost' as never,
          attempts: 0,
          max_attempts: 1,
          progress: 0,
        })
        .execute(),
    ).rejects.toThrow(/jobs_status_check/);
  });

  it('refuse an analysis whose organisation is not its media organisation', async () => {
    const [ownerId, otherId, mediaId] = [randomUUID(), randomUUID(), randomUUID()];
    await database.db
      .insertInto('organisations')
      .values([
        { id: ownerId, name: `owner-${ownerId}` },
        { id: otherId, name: `other-${otherId}` },
      ])
      .execute();
    await database.db
      .insertInto('media')
      .values({
        id: mediaId,
        org_id: ownerId,
        sha256: 'a'.repeat(64),
        size_bytes: 1,
        mime_type: 'image/png',
        original_filename: null,
        blob_key: 'b',
        status: 'stored',
        probe: '{}',
      })
      .execute();
    await expect(
      database.db
        .insertInto('analyses')
        .values({
          id: randomUUID(),
          org_id: otherId,
          media_id: mediaId,
          pipeline_version: '1',
          status: 'queued',
          progress: 0,
          attempts: 0,
        })
        .execute(),
    ).rejects.toThrow(/analyses_media_fkey/);
  });

  it('deduplicate live jobs only: a finished job key can be enqueued again', async () => {
    const job = (status: 'waiting' | 'done') => ({
      id: randomUUID(),
      name: 'analysis.run',
      dedupe_key: 'same-key',
      payload: '{}',
      status,
      attempts: 0,
      max_attempts: 1,
      progress: 0,
    });
    await database.db.insertInto('jobs').values(job('done')).execute();
    await database.db.insertInto('jobs').values(job('waiting')).execute();
    await expect(database.db.insertInto('jobs').values(job('waiting')).execute()).rejects.toThrow(
      /jobs_live_dedupe_key_idx/,
    );
  });
});
