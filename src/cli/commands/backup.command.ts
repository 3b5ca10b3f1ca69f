import { resolve } from 'node:path';
import type { BackupSummary } from '../../backup/backup-create.js';
import type { RestoreSummary } from '../../backup/backup-restore.js';
import type { CliCommand } from '../cli-command.js';

const usage = `usage: guardian backup create --to DIR
       guardian backup verify --from DIR          (or: guardian backup verify DIR)
       guardian backup restore --from DIR [--shred-ledger FILE]...`;

/** `guardian backup`: sealed backups of the database and every blob, their verification, and restores. */
export const backupCommand: CliCommand = {
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    'shred-ledger': { type: 'string', multiple: true },
  },
  async run({ positionals, values, loadConfig }) {
    const [verb, ...rest] = positionals;
    const from = typeof values.from === 'string' ? values.from : verb === 'verify' ? rest[0] : undefined;
    const extra = verb === 'verify' && values.from === undefined ? rest.slice(1) : rest;
    if (extra.length > 0) return usageError();
    if (verb === 'create' && typeof values.to === 'string') return create(resolve(values.to), loadConfig);
    if (verb === 'verify' && from) return verify(resolve(from), loadConfig);
    if (verb === 'restore' && from) {
      const ledgers = (values['shred-ledger'] ?? []) as string[];
      return restore(
        resolve(from),
        ledgers.map((file) => resolve(file)),
        loadConfig,
      );
    }
    return usageError();
  },
};

function usageError(): number {
  console.error(usage);
  return 2;
}

type LoadConfig = Parameters<CliCommand['run']>[0]['loadConfig'];

async function quietLogger() {
  const { createLogger } = await import('../../app/logger.js');
  return createLogger({ LOG_LEVEL: 'warn' });
}

async function create(to: string, loadConfig: LoadConfig): Promise<number> {
  const config = loadConfig();
  const { callAdminSocket, noServer } = await import('../../app/admin-socket.js');
  // A running embedded server holds the database: it takes the backup itself, between transactions.
  let summary = config.DATABASE_URL
    ? noServer
    : ((await callAdminSocket(config.DATA_DIR, 'backup.create', { to })) as BackupSummary | typeof noServer);
  if (summary === noServer) {
    const log = await quietLogger();
    const { openBackupSource } = await import('../../backup/backup-context.js');
    const { createBackup } = await import('../../backup/backup-create.js');
    const opened = await openBackupSource(config, log);
    try {
      summary = await createBackup(opened.source, to);
    } finally {
      await opened.close();
    }
  }
  const done = summary as BackupSummary;
  console.log(
    `backup ${done.backupId} written to ${done.directory}: database ${done.databaseBytes} bytes, ${done.blobs} blobs (${done.blobBytes} bytes), ${done.skippedShredded} shredded blobs left out, in ${(done.durationMs / 1000).toFixed(2)} s`,
  );
  if (done.vanishedBlobs.length > 0)
    console.log(`${done.vanishedBlobs.length} blobs were deleted while the backup ran (not in it)`);
  if (done.unreadableBlobs.length > 0) {
    console.error(
      `backup INCOMPLETE: ${done.unreadableBlobs.length} stored blobs failed authentication and are not in it: ${done.unreadableBlobs.slice(0, 5).join(', ')}`,
    );
    return 1;
  }
  return 0;
}

async function verify(from: string, loadConfig: LoadConfig): Promise<number> {
  const config = loadConfig();
  const log = await quietLogger();
  const { loadExistingKeyring } = await import('../../backup/backup-context.js');
  const { verifyBackup } = await import('../../backup/backup-verify.js');
  const result = await verifyBackup(from, await loadExistingKeyring(config, log));
  if (!result.ok) {
    for (const problem of result.problems.slice(0, 20)) console.error(`${problem.file}: ${problem.problem}`);
    const first = result.problems[0];
    console.error(`backup verification FAILED: ${result.problems.length} problem(s), first: ${first?.file}`);
    return 1;
  }
  const manifest = result.manifest;
  console.log(
    `backup ${manifest?.backupId} intact: taken ${manifest?.createdAt} (schema ${manifest?.migration}, version ${manifest?.appVersion}), ${manifest?.database.kind} dump and ${manifest?.blobs.length} blobs authenticate`,
  );
  return 0;
}

async function restore(from: string, ledgerFiles: string[], loadConfig: LoadConfig): Promise<number> {
  const config = loadConfig();
  const log = await quietLogger();
  const { RestoreRefused, restoreBackup } = await import('../../backup/backup-restore.js');
  const { openRestoreTarget } = await import('../../backup/backup-context.js');
  if (!config.DATABASE_URL) {
    const { callAdminSocket, noServer } = await import('../../app/admin-socket.js');
    if ((await callAdminSocket(config.DATA_DIR, 'org.list', {}).catch(() => noServer)) !== noServer) {
      console.error(`guardian backup restore: a server is running on ${config.DATA_DIR}; stop it first`);
      return 2;
    }
  }
  let summary: RestoreSummary;
  try {
    const opened = await openRestoreTarget(config, log);
    try {
      summary = await restoreBackup({
        from,
        keyring: opened.keyring,
        target: opened.target,
        ledgerFiles,
        log,
      });
    } finally {
      await opened.close();
    }
  } catch (error) {
    if (!(error instanceof RestoreRefused)) throw error;
    console.error(`guardian backup restore: refused: ${error.message}`);
    return 2;
  }
  const { ledger } = summary;
  console.log(
    `restored backup ${summary.backupId} (taken ${summary.createdAt}): database and ${summary.blobsRestored} blobs (${summary.blobBytes} bytes) in ${(summary.durationMs / 1000).toFixed(2)} s`,
  );
  console.log(
    `shred ledger: ${ledger.total} entries (${ledger.fromThisBackup} from this backup, ${ledger.siblings.reduce((n, s) => n + s.entries, 0)} from ${ledger.siblings.length} other backups, ${ledger.fromFiles} from --shred-ledger); ${summary.skippedShredded} blobs not restored, ${ledger.mediaMarkedDeleted} media marked deleted`,
  );
  if (ledger.unreadableSiblings.length > 0)
    console.error(
      `warning: could not read the manifests of ${ledger.unreadableSiblings.join(', ')} (another master key?): deletions they record were not applied`,
    );
  if (summary.logSigningKeyRestored) console.log('log signing key restored into DATA_DIR');
  return 0;
}
