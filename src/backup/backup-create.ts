import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { logKeyFileName } from '../evidence/log-signing-key.js';
import type { AuditLog } from '../services/audit-log.js';
import { AppError, badRequest } from '../services/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Keyring } from '../storage/master-key.js';
import { pathExists } from '../storage/path-exists.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import {
  backupFiles,
  backupFormat,
  backupObjectKeys,
  type BackupManifest,
  type SealedFileEntry,
} from './backup-manifest.js';
import { createBackupRepository } from './backup.repository.js';
import type { DatabaseDump } from './database-dumps.js';
import { writeSealedBuffer, writeSealedFile } from './sealed-files.js';

export interface BackupSource {
  db: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  dump(): Promise<DatabaseDump>;
  blobStore: BlobStore;
  keyring: Keyring;
  /** Where a generated log signing key lives; null when LOG_SIGNING_KEY is configured (kept elsewhere). */
  logKeyDir: string | null;
  audit: AuditLog;
  appVersion: string;
  now(): Date;
  log: Logger;
}

export interface BackupSummary {
  backupId: string;
  directory: string;
  createdAt: string;
  databaseBytes: number;
  blobs: number;
  blobBytes: number;
  skippedShredded: number;
  vanishedBlobs: string[];
  unreadableBlobs: string[];
  durationMs: number;
}

// The platform's own write probe (checkHealth) comes and goes; it is not data.
const transientKey = /^health-probe-/;

/**
 * Writes a backup into `directory` (new or empty): the database dump first, then every blob the store lists
 * (so each blob the dump refers to exists when copied), the log signing key, and the manifest last — a
 * directory without a manifest is an interrupted backup. Every file is SAGB-sealed under the master keyring.
 */
export async function createBackup(source: BackupSource, directory: string): Promise<BackupSummary> {
  const started = Date.now();
  const createdAt = source.now().toISOString();
  const backupId = randomUUID();
  const seal = (objectKey: string) => ({ objectKey, keyring: source.keyring });
  try {
    await prepareDirectory(directory);
    const repository = createBackupRepository(source.db);
    const dump = await source.dump();
    const database = await writeSealedFile(
      join(directory, backupFiles.database),
      dump.stream,
      seal(backupObjectKeys.database),
    );
    const [migration, shreddedBlobs] = [await repository.migrationLevel(), await repository.shredLedger()];
    const shredded = new Set(shreddedBlobs.map((entry) => entry.blobKey));
    await mkdir(join(directory, backupFiles.blobsDir), { mode: 0o700 });
    const blobs: BackupManifest['blobs'] = [];
    const vanishedBlobs: string[] = [];
    const unreadableBlobs: string[] = [];
    let skippedShredded = 0;
    for await (const key of source.blobStore.keys()) {
      if (transientKey.test(key)) continue;
      if (shredded.has(key)) {
        skippedShredded += 1;
        continue;
      }
      const file = `${backupFiles.blobsDir}/${key}.sagb`;
      try {
        // Read through the port (authenticated), sealed again for the backup: works for any BlobStore.
        const written = await writeSealedFile(
          join(directory, file),
          await source.blobStore.read(key),
          seal(key),
        );
        blobs.push({ key, file, ...written });
      } catch (error) {
        await rm(join(directory, file), { force: true });
        if (error instanceof AppError && error.status === 404) vanishedBlobs.push(key);
        else if (error instanceof BlobIntegrityError) unreadableBlobs.push(key);
        else throw error;
        source.log.warn({ blobKey: key, err: error }, 'blob not in the backup');
      }
    }
    const logSigningKey = await backupLogKey(source, directory);
    const manifest: BackupManifest = {
      format: backupFormat,
      backupId,
      createdAt,
      appVersion: source.appVersion,
      migration,
      masterKeyId: `${source.keyring.current.id} v${source.keyring.current.version}`,
      database: { file: backupFiles.database, kind: source.kind, tool: dump.tool, ...database },
      logSigningKey,
      blobs,
      shreddedBlobs,
      vanishedBlobs,
      unreadableBlobs,
    };
    await writeSealedBuffer(
      join(directory, backupFiles.manifest),
      Buffer.from(JSON.stringify(manifest)),
      seal(backupObjectKeys.manifest),
    );
    const summary: BackupSummary = {
      backupId,
      directory,
      createdAt,
      databaseBytes: database.sizeBytes,
      blobs: blobs.length,
      blobBytes: blobs.reduce((total, blob) => total + blob.sizeBytes, 0),
      skippedShredded,
      vanishedBlobs,
      unreadableBlobs,
      durationMs: Date.now() - started,
    };
    await source.audit.append({
      orgId: null,
      actor: { type: 'cli', id: null },
      action: 'backup.create',
      outcome: 'success',
      details: {
        backupId,
        blobs: summary.blobs,
        databaseBytes: summary.databaseBytes,
        blobBytes: summary.blobBytes,
        unreadableBlobs: unreadableBlobs.length,
      },
    });
    source.log.info({ backupId, blobs: summary.blobs, durationMs: summary.durationMs }, 'backup written');
    return summary;
  } catch (error) {
    await source.audit
      .append({
        orgId: null,
        actor: { type: 'cli', id: null },
        action: 'backup.create',
        outcome: 'failure',
        details: { backupId, reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' },
      })
      .catch((auditError: unknown) => source.log.error({ err: auditError }, 'backup failure not audited'));
    throw error;
  }
}

async function prepareDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  if ((await readdir(directory)).length > 0)
    throw badRequest(
      'backup-target-not-empty',
      `${directory} is not empty; give each backup a new directory (backups are never overwritten)`,
    );
}

async function backupLogKey(source: BackupSource, directory: string): Promise<SealedFileEntry | null> {
  if (source.logKeyDir === null) return null;
  const path = join(source.logKeyDir, logKeyFileName);
  if (!(await pathExists(path))) return null;
  const written = await writeSealedBuffer(join(directory, backupFiles.logSigningKey), await readFile(path), {
    objectKey: backupObjectKeys.logSigningKey,
    keyring: source.keyring,
  });
  return { file: backupFiles.logSigningKey, ...written };
}
