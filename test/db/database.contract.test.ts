import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

describeEachImplementation('database', databaseImplementations(), (implementation) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await implementation.open();
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('reports its kind and passes the health check', async () => {
    expect(database.kind).toBe(implementation.name);
    await expect(database.checkHealth()).resolves.toBeUndefined();
  });

  it('returns int8 as numbers when safe, bigint beyond, and timestamptz as Date', async () => {
    const { rows } = await sql<{ small: unknown; large: unknown; count: unknown; at: unknown; doc: unknown }>`
      select 1099511627776::int8 as small, 9007199254740993::int8 as large, count(*) as count,
             now() as at, '{"a":[1,2]}'::jsonb as doc
    `.execute(database.db);
    expect(rows[0]).toEqual({
      small: 2 ** 40,
      large: 9007199254740993n,
      count: 1,
      at: expect.any(Date),
      doc: { a: [1, 2] },
    });
  });

  it('rolls a failed transaction back completely', async () => {
    const name = `rollback-${randomUUID()}`;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('organisations').values({ id: randomUUID(), name }).execute();
        throw new Error('abort the transaction');
      }),
    ).rejects.toThrow('abort the transaction');
    expect(
      await database.db.selectFrom('organisations').where('name', '=', name).selectAll().execute(),
    ).toEqual([]);
  });

  it('keeps concurrent transactions isolated from each other', async () => {
    const names = Array.from({ length: 5 }, (_, index) => `concurrent-${index}-${randomUUID()}`);
    await Promise.all(
      names.map((name) =>
        database.db.transaction().execute(async (trx) => {
          await trx.insertInto('organisations').values({ id: randomUUID(), name }).execute();
          const seen = await trx
            .selectFrom('organisations')
            .select('name')
            .where('name', 'in', names)
            .execute();
          // Each transaction sees its own uncommitted row; commits happen one at a time on PGlite.
          expect(seen.map((row) => row.name)).toContain(name);
        }),
      ),
    );
    const stored = await database.db
      .selectFrom('organisations')
      .select('name')
      .where('name', 'in', names)
      .execute();
    expect(stored).toHaveLength(names.length);
  });

  it('reports affected row counts', async () => {
    const name = `count-${randomUUID()}`;
    await database.db.insertInto('organisations').values({ id: randomUUID(), name }).execute();
    const result = await database.db.deleteFrom('organisations').where('name', '=', name).executeTakeFirst();
    expect(result.numDeletedRows).toBe(1n);
  });
});
