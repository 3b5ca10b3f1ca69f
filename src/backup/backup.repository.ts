import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ShredLedgerEntry } from './backup-manifest.js';

/** The few queries backups need, on the database being backed up or restored. */
export function createBackupRepository(db: Kysely<Database>) {
  return {
    /** Last migration applied (Kysely's bookkeeping table), or null when none ran. */
    async migrationLevel(): Promise<string | null> {
      const rows = await sql<{ name: string }>`
        select name from kysely_migration order by name desc limit 1`
        .execute(db)
        .catch(() => ({ rows: [] }));
      return rows.rows[0]?.name ?? null;
    },

    async shredLedger(): Promise<ShredLedgerEntry[]> {
      const rows = await db.selectFrom('shredded_blobs').selectAll().orderBy('blob_key').execute();
      return rows.map((row) => ({
        blobKey: row.blob_key,
        organisationId: row.organisation_id,
        reason: row.reason,
        shreddedAt: row.shredded_at.toISOString(),
      }));
    },

    /** Tables in the database's own schemas: a restore target must have none. */
    async userTables(): Promise<string[]> {
      const rows = await sql<{ name: string }>`
        select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') order by 1`.execute(db);
      return rows.rows.map((row) => row.name);
    },

    /**
     * Makes the restored ledger the union, and marks media whose blob it lists as deleted (as a deletion
     * would have): returns the rows added to the ledger and the media rows marked.
     */
    async applyLedger(entries: ShredLedgerEntry[]): Promise<{ ledgerRows: number; mediaMarked: number }> {
      if (entries.length === 0) return { ledgerRows: 0, mediaMarked: 0 };
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('shredded_blobs')
          .values(
            entries.map((entry) => ({
              blob_key: entry.blobKey,
              organisation_id: entry.organisationId,
              reason: entry.reason,
              shredded_at: new Date(entry.shreddedAt),
            })),
          )
          .onConflict((conflict) => conflict.column('blob_key').doNothing())
          .returning('blob_key')
          .execute();
        const marked = await trx
          .updateTable('media')
          .set({ status: 'deleted', deleted_at: sql<Date>`now()`, original_filename: null, probe: '{}' })
          .where(
            'blob_key',
            'in',
            entries.map((entry) => entry.blobKey),
          )
          .where('status', '=', 'stored')
          .returning('id')
          .execute();
        return { ledgerRows: inserted.length, mediaMarked: marked.length };
      });
    },
  };
}

export type BackupRepository = ReturnType<typeof createBackupRepository>;
