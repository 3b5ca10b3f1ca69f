import type { PGlite } from '@electric-sql/pglite';
import {
  AbortedTransactionError,
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { AsyncMutex } from './async-mutex.js';

/**
 * Kysely over one PGlite instance. PGlite is a single backend, so there is one connection and a
 * mutex around it: a transaction holds it until commit or rollback, and other queries wait.
 * Never use the outer Kysely instance inside a transaction callback: it would wait for itself.
 */
export class PGliteDialect implements Dialect {
  readonly #mutex = new AsyncMutex();

  constructor(private readonly pglite: PGlite) {}

  /** The one connection as a pool of one: busy or idle, and how many queries wait for it (metrics). */
  connectionStats(): ConnectionStats {
    return { total: 1, idle: this.#mutex.locked ? 0 : 1, waiting: this.#mutex.waiting };
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.pglite, this.#mutex);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/** Connections open, idle, and callers waiting for one (PostgreSQL pool or the PGlite mutex). */
export interface ConnectionStats {
  total: number;
  idle: number;
  waiting: number;
}

class PGliteDriver implements Driver {
  readonly #mutex: AsyncMutex;
  readonly #connection: PGliteConnection;

  constructor(
    private readonly pglite: PGlite,
    mutex: AsyncMutex,
  ) {
    this.#mutex = mutex;
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const clauses = [
      settings.isolationLevel && `isolation level ${settings.isolationLevel}`,
      settings.accessMode,
    ];
    await connection.executeQuery(
      CompiledQuery.raw(['start transaction', ...clauses.filter(Boolean)].join(' ')),
    );
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
    // COMMIT of a transaction an earlier error aborted completes as ROLLBACK.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

const rowCountCommands = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const command = result.command?.toUpperCase();
    if (command === 'COMMIT' || command === 'ROLLBACK') return { rows: [{ command } as R] };
    return {
      rows: result.rows,
      numAffectedRows:
        command && rowCountCommands.has(command) ? BigInt(result.affectedRows ?? 0) : undefined,
    };
  }

  // PGlite has no cursors: the whole result is in memory anyway, so it is handed out in chunks.
  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(compiledQuery);
    for (let start = 0; start < rows.length; start += chunkSize)
      yield { rows: rows.slice(start, start + chunkSize) };
  }
}
