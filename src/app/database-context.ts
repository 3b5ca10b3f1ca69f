import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import { openDatabase, type OpenedDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { lockDataDir } from './data-dir-lock.js';

/** Opens the configured database (locking DATA_DIR for embedded PGlite) and applies migrations. */
export async function openMigratedDatabase(config: Config, log: Logger): Promise<OpenedDatabase> {
  const lock = config.DATABASE_URL ? null : await lockDataDir(config.DATA_DIR);
  try {
    const database = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolMax: config.DATABASE_POOL_MAX,
      log,
    });
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
    return {
      ...database,
      close: async () => {
        await database.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
