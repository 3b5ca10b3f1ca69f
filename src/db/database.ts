import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import type { Logger } from 'pino';
import { INT8_OID, parseInt8 } from './numeric-types.js';
import { provisionPGliteDataDir } from './pglite-data-dir.js';
import { PGliteDialect, type ConnectionStats } from './pglite-dialect.js';
import type { Database } from './schema.js';

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; unset opens PGlite under dataDir/db. */
  databaseUrl?: string;
  dataDir: string;
  poolMax: number;
  log: Logger;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
  checkHealth(): Promise<void>;
  /** PostgreSQL: the pool's clients; PGlite: its one connection and the queries queued for it (metrics). */
  connectionStats(): ConnectionStats;
  /** Embedded only: a gzipped tarball of the data directory, taken between transactions (backups). */
  dumpDataDir?(): Promise<Buffer>;
}

// A runaway query or a forgotten open transaction must not hold connections and locks forever.
const statementTimeoutMs = 60_000;
const idleInTransactionTimeoutMs = 60_000;
const connectTimeoutMs = 10_000;
const idleConnectionMs = 30_000;

// Each driver is loaded only in the mode that uses it: either module costs 5-15 MiB resident once loaded.
export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const pglite = options.databaseUrl ? null : await openPGlite(join(options.dataDir, 'db'), options.log);
  const pool = pglite ? null : await createPool(options.databaseUrl ?? '', options.poolMax, options.log);
  const pgliteDialect = pglite ? new PGliteDialect(pglite) : null;
  const dialect = pgliteDialect ?? new PostgresDialect({ pool: pool! });
  const db = new Kysely<Database>({ dialect });
  const opened: OpenedDatabase = {
    db,
    kind: pglite ? 'pglite' : 'postgres',
    close: () => db.destroy(),
    async checkHealth() {
      await sql`select 1`.execute(db);
    },
    connectionStats: () =>
      pgliteDialect?.connectionStats() ?? {
        total: pool?.totalCount ?? 0,
        idle: pool?.idleCount ?? 0,
        waiting: pool?.waitingCount ?? 0,
      },
    ...(pglite ? { dumpDataDir: () => dumpPGlite(db, pglite) } : {}),
  };
  await opened.checkHealth().catch(async (error: unknown) => {
    await db.destroy();
    throw error;
  });
  return opened;
}

async function createPool(connectionString: string, max: number, log: Logger): Promise<pg.Pool> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString,
    max,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: idleConnectionMs,
    application_name: 'secureai-guardian',
    types: {
      getTypeParser: (oid, format) =>
        oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format),
    },
  });
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => log.error({ err: error }, 'idle PostgreSQL connection failed'));
  // pg-pool drops its listener while a client is checked out; a connection lost mid-query (server crash,
  // failover) then emits 'error' with no listener and kills the process. The query itself still rejects.
  pool.on('connect', (client) =>
    client.on('error', (error) => log.warn({ err: error }, 'PostgreSQL connection lost while in use')),
  );
  return pool;
}

// Holding the dialect's one connection keeps every transaction out while the files are read; the checkpoint
// leaves nothing to replay from the WAL when the copy is opened.
async function dumpPGlite(db: Kysely<Database>, pglite: PGlite): Promise<Buffer> {
  return db.connection().execute(async (connection) => {
    await sql`checkpoint`.execute(connection);
    const tarball = await pglite.dumpDataDir('gzip');
    return Buffer.from(await tarball.arrayBuffer());
  });
}

async function openPGlite(directory: string, log: Logger): Promise<PGlite> {
  const from = await provisionPGliteDataDir(directory, { log });
  if (from !== 'existing') log.info({ directory, from }, 'created the embedded database');
  // PGlite is the only WASM here; V8's optimising tier adds ~70 MiB of code and compile memory for it and,
  // measured on this workload, costs more CPU than it saves. Read when the module compiles, so set first.
  setFlagsFromString('--liftoff-only');
  const { PGlite } = await import('@electric-sql/pglite');
  return PGlite.create(directory, {
    parsers: { [INT8_OID]: parseInt8 },
    // Postgres' shared memory lives in the WASM heap and is touched whole at start: the default 128 MB of
    // shared_buffers is 128 MiB of resident memory. The data files sit in the OS page cache anyway.
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
  });
}
