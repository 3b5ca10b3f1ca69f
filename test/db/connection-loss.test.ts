import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

const postgres = databaseImplementations().filter((implementation) => implementation.name === 'postgres');

describeEachImplementation(
  'a PostgreSQL connection lost in the middle of a query',
  postgres,
  (implementation) => {
    let database: TestDatabase;
    let admin: pg.Client;

    beforeAll(async () => {
      database = await implementation.open();
      admin = new pg.Client({ connectionString: database.settings.databaseUrl });
      await admin.connect();
    });
    afterAll(async () => {
      await admin?.end();
      await database?.destroy();
    });

    it('fails that query, keeps the process alive, and serves the next query on a new connection', async () => {
      const marker = `connection-loss-${Date.now()}`;
      const sleeping = sql`select pg_sleep(30), ${marker}::text`.execute(database.db);
      const outcome = sleeping.then(
        () => 'finished',
        (error: unknown) => (error as Error).message,
      );
      let terminated = 0;
      for (let tries = 0; terminated === 0 && tries < 100; tries += 1) {
        const { rowCount } = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and query like '%pg_sleep%' and pid <> pg_backend_pid()`,
        );
        terminated = rowCount ?? 0;
        if (terminated === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(terminated).toBe(1);
      // Before the pool listened on checked-out clients, the lost connection's 'error' event killed the process.
      expect(await outcome).toMatch(/terminat/i);
      // The server's FATAL reaches the query before the socket closes, so the client may go back to the pool
      // once more before it is known dead: the pool must still answer within a few tries.
      let answered: unknown;
      for (let tries = 0; answered === undefined && tries < 20; tries += 1) {
        answered = await sql<{ one: number }>`select 1 as one`.execute(database.db).then(
          ({ rows }) => rows,
          () => new Promise((resolve) => setTimeout(resolve, 50)),
        );
      }
      expect(answered).toEqual([{ one: 1 }]);
    });
  },
);
