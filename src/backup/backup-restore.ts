import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { OpenedDatabase } from '../db/database.js';
import { migrationNames } from '../db/migrator.js';
import { logKeyFileName } from '../evidence/log-signing-key.js';
import { createAuditRepository } from '../repositories/audit.repository.js';
import { createAuditLogService } from '../services/audit-log.service.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { Keyring } from '../storage/master-key.js';
import { pathExists } from '../storage/path-exists.js';
import { backupObjectKeys } from './backup-manifest.js';
import { createBackupRepository } from './backup.repository.js';
import { verifyBackup } from './backup-verify.js';
import { openSealedFile, readSealedFile } from './sealed-files.js';
import { collectShredLedger, type LedgerUnion } from './shred-ledger.js';

/** The deployment a backup is restored into. */
export interface RestoreTarget {
  kind: 'pglite' | 'postgres';
  /** Null when the database is empty; otherwise what is in it. */
  occupied(): Promise<string | null>;
  load(dump: Readable): Promise<void>;
  /** Opens the loaded database and applies this code's pending migrations. */
  open(): Promise<OpenedDatabase>;
  blobStore: BlobStore;
  /** Where a generated log signing key goes; null when LOG_SIGNING_KEY is configured. */
  logKeyDir: string | null;
}

/** A restore that must not start (target not empty, wrong kind, newer backup): exit 2, nothing changed. */
export class RestoreRefused extends Error {}

export interface RestoreSummary {
  backupId: string;
  createdAt: string;
  migration: string | null;
  blobsRestored: number;
  blobBytes: number;
  skippedShredded: number;
  ledger: Omit<LedgerUnion, 'entries'> & {
    total: number;
    addedToDatabase: number;
    mediaMarkedDeleted: number;
  };
  logSigningKeyRestored: boolean;
  durationMs: number;
}

export async function restoreBackup(input: {
  from: string;
  keyring: Keyring;
  target: RestoreTarget;
  ledgerFiles: string[];
  log: Logger;
}): Promise<RestoreSummary> {
  const started = Date.now();
  const { from, keyring, target } = input;
  const verification = await verifyBackup(from, keyring);
  const manifest = verification.manifest;
  if (!verification.ok || !manifest) {
    const first = verification.problems[0];
    throw new Error(
      `the backup fails verification (${first?.file}: ${first?.problem}); nothing was restored`,
    );
  }
  if (manifest.database.kind !== target.kind)
    throw new RestoreRefused(
      `the backup holds a ${manifest.database.kind} database and this deployment uses ${target.kind}; restore it into the same kind`,
    );
  if (manifest.migration !== null && !migrationNames.includes(manifest.migration))
    throw new RestoreRefused(
      `the backup's schema (${manifest.migration}) is newer than this version knows; restore with version ${manifest.appVersion} or later`,
    );
  const occupied = await target.occupied();
  if (occupied) throw new RestoreRefused(`the target database is not empty: ${occupied}`);
  for await (const key of target.blobStore.keys())
    throw new RestoreRefused(`the target blob store is not empty (it holds ${key}, at least)`);

  const ledger = await collectShredLedger({
    backupDirectory: from,
    own: manifest.shreddedBlobs,
    keyring,
    ledgerFiles: input.ledgerFiles,
  });
  await target.load(
    await openSealedFile(join(from, manifest.database.file), seal(backupObjectKeys.database)),
  );
  const database = await target.open();
  try {
    let blobsRestored = 0;
    let blobBytes = 0;
    let skippedShredded = 0;
    for (const blob of manifest.blobs) {
      if (ledger.entries.has(blob.key)) {
        skippedShredded += 1;
        continue;
      }
      const { sizeBytes } = await target.blobStore.put(
        blob.key,
        await openSealedFile(join(from, blob.file), seal(blob.key)),
      );
      if (sizeBytes !== blob.plaintextBytes)
        throw new Error(`${blob.file} restored ${sizeBytes} bytes, the manifest says ${blob.plaintextBytes}`);
      blobsRestored += 1;
      blobBytes += sizeBytes;
    }
    const applied = await createBackupRepository(database.db).applyLedger([...ledger.entries.values()]);
    const logSigningKeyRestored = await restoreLogKey(from, manifest.logSigningKey?.file, target, keyring);
    const { entries, ...ledgerCounts } = ledger;
    const summary: RestoreSummary = {
      backupId: manifest.backupId,
      createdAt: manifest.createdAt,
      migration: manifest.migration,
      blobsRestored,
      blobBytes,
      skippedShredded,
      ledger: {
        ...ledgerCounts,
        total: entries.size,
        addedToDatabase: applied.ledgerRows,
        mediaMarkedDeleted: applied.mediaMarked,
      },
      logSigningKeyRestored,
      durationMs: Date.now() - started,
    };
    await createAuditLogService({ audit: createAuditRepository({ db: database.db }) }).append({
      orgId: null,
      actor: { type: 'cli', id: null },
      action: 'backup.restore',
      outcome: 'success',
      details: {
        backupId: manifest.backupId,
        backupCreatedAt: manifest.createdAt,
        blobsRestored,
        skippedShredded,
        mediaMarkedDeleted: applied.mediaMarked,
      },
    });
    input.log.info({ backupId: manifest.backupId, blobsRestored, skippedShredded }, 'backup restored');
    return summary;
  } finally {
    await database.close();
  }

  function seal(objectKey: string) {
    return { objectKey, keyring };
  }
}

async function restoreLogKey(
  from: string,
  file: string | undefined,
  target: RestoreTarget,
  keyring: Keyring,
): Promise<boolean> {
  if (!file || target.logKeyDir === null) return false;
  const path = join(target.logKeyDir, logKeyFileName);
  if (await pathExists(path)) return false;
  const pem = await readSealedFile(join(from, file), { objectKey: backupObjectKeys.logSigningKey, keyring });
  await writeFile(path, pem, { flag: 'wx', mode: 0o600 });
  return true;
}
