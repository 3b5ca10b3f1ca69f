import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { lockDataDir } from '../app/data-dir-lock.js';
import type { Config } from '../config/config.schema.js';
import { ConfigError } from '../config/config-error.js';
import { openDatabase, type OpenedDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createAuditRepository } from '../repositories/audit.repository.js';
import { createAuditLogService } from '../services/audit-log.service.js';
import type { BlobStore } from '../storage/blob-store.js';
import { openBlobStorage } from '../app/blob-storage.js';
import { loadOrCreateMasterKey, type Keyring } from '../storage/master-key.js';
import { pathExists } from '../storage/path-exists.js';
import { appVersion } from './app-version.js';
import type { BackupSource } from './backup-create.js';
import type { RestoreTarget } from './backup-restore.js';
import { createBackupRepository } from './backup.repository.js';
import { loadPGliteDataDir, pgDump, pgRestore, type DatabaseDump } from './database-dumps.js';

/** The master keyring, never generated here: a backup or restore under a new random key would be useless. */
export async function loadExistingKeyring(config: Config, log: Logger): Promise<Keyring> {
  if (config.MASTER_KEY === undefined && !(await pathExists(join(config.DATA_DIR, 'master.key'))))
    throw new ConfigError([
      `MASTER_KEY is not set and ${join(config.DATA_DIR, 'master.key')} does not exist: backups are sealed under the master key; set MASTER_KEY (or copy the deployment's master.key into DATA_DIR)`,
    ]);
  return loadOrCreateMasterKey({
    configured: config.MASTER_KEY,
    dataDir: config.DATA_DIR,
    production: config.NODE_ENV === 'production',
    log,
  });
}

/** How the database of an opened deployment is dumped: pg_dump, or PGlite's data-directory tarball. */
export function databaseDumper(database: OpenedDatabase, config: Config): () => Promise<DatabaseDump> {
  if (database.kind === 'postgres') return () => pgDump(config.DATABASE_URL ?? '');
  const dumpDataDir = database.dumpDataDir;
  if (!dumpDataDir) throw new Error('this embedded database cannot be dumped');
  return async () => ({
    tool: 'pglite dumpDataDir (tar.gz)',
    stream: Readable.from([await dumpDataDir()], { objectMode: false }),
  });
}

/** Everything a backup needs, from the platform's own parts (used in the running server and the CLI). */
export function backupSource(input: {
  config: Config;
  database: OpenedDatabase;
  blobStore: BlobStore;
  keyring: Keyring;
  log: Logger;
  now?: () => Date;
}): BackupSource {
  const { config, database } = input;
  return {
    db: database.db,
    kind: database.kind,
    dump: databaseDumper(database, config),
    blobStore: input.blobStore,
    keyring: input.keyring,
    logKeyDir: config.LOG_SIGNING_KEY === undefined ? config.DATA_DIR : null,
    audit: createAuditLogService({ audit: createAuditRepository({ db: database.db }) }),
    appVersion: appVersion(),
    now: input.now ?? (() => new Date()),
    log: input.log,
  };
}

/**
 * The CLI's own handle on a deployment with no server running: the database opened without migrating (a
 * backup records the schema as it is), DATA_DIR locked in embedded mode.
 */
export async function openBackupSource(
  config: Config,
  log: Logger,
): Promise<{ source: BackupSource; close(): Promise<void> }> {
  const keyring = await loadExistingKeyring(config, log);
  const lock = config.DATABASE_URL ? null : await lockDataDir(config.DATA_DIR);
  try {
    if (!config.DATABASE_URL && !(await pathExists(join(config.DATA_DIR, 'db', 'PG_VERSION'))))
      throw new Error(`there is no embedded database in ${join(config.DATA_DIR, 'db')} to back up`);
    const database = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolMax: 2,
      log,
    });
    // The store the platform uses (DATA_DIR/blobs, or S3 with S3_BUCKET).
    const storage = await openBlobStorage(config, keyring, log);
    const source = backupSource({ config, database, blobStore: storage.blobStore, keyring, log });
    return {
      source,
      close: async () => {
        await storage.close();
        await database.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/** The deployment named by the configuration, as a restore target; DATA_DIR stays locked until close. */
export async function openRestoreTarget(
  config: Config,
  log: Logger,
): Promise<{ keyring: Keyring; target: RestoreTarget; close(): Promise<void> }> {
  const keyring = await loadExistingKeyring(config, log);
  const lock = config.DATABASE_URL ? null : await lockDataDir(config.DATA_DIR);
  const dbDir = join(config.DATA_DIR, 'db');
  const open = async () => {
    const database = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolMax: 2,
      log,
    });
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
    return database;
  };
  const databaseUrl = config.DATABASE_URL;
  const storage = await openBlobStorage(config, keyring, log);
  const target: RestoreTarget = {
    kind: databaseUrl ? 'postgres' : 'pglite',
    blobStore: storage.blobStore,
    logKeyDir: config.LOG_SIGNING_KEY === undefined ? config.DATA_DIR : null,
    open,
    async occupied() {
      if (!databaseUrl) {
        const entries = await readdir(dbDir).catch(() => [] as string[]);
        return entries.length > 0 ? `${dbDir} exists (move it away, or restore into a new DATA_DIR)` : null;
      }
      const database = await openDatabase({ databaseUrl, dataDir: config.DATA_DIR, poolMax: 1, log });
      try {
        const tables = await createBackupRepository(database.db).userTables();
        return tables.length > 0
          ? `it has ${tables.length} tables (${tables.slice(0, 3).join(', ')}…); restore into a new database (createdb)`
          : null;
      } finally {
        await database.close();
      }
    },
    async load(dump) {
      if (databaseUrl) return pgRestore(databaseUrl, dump);
      const parts: Buffer[] = [];
      for await (const chunk of dump as AsyncIterable<Buffer>) parts.push(chunk);
      await loadPGliteDataDir(dbDir, Buffer.concat(parts));
    },
  };
  return {
    keyring,
    target,
    close: async () => {
      await storage.close();
      await lock?.release();
    },
  };
}
