import { Migrator, type Kysely, type Migration } from 'kysely';
import * as initial from './migrations/0001_initial.js';
import * as accounts from './migrations/0002_accounts.js';
import * as mfaTokensMail from './migrations/0003_mfa_tokens_mail.js';
import * as auditLog from './migrations/0004_audit_log.js';
import * as loginThrottle from './migrations/0005_login_throttle.js';
import * as systemAuditActor from './migrations/0006_system_audit_actor.js';
import * as mediaDeletion from './migrations/0007_media_deletion.js';
import * as outboxRedactedBody from './migrations/0008_outbox_redacted_body.js';
import * as transparencyLog from './migrations/0009_transparency_log.js';
import * as mediaHistory from './migrations/0010_media_history.js';
import * as logAnchors from './migrations/0011_log_anchors.js';
import * as shredLedger from './migrations/0012_shred_ledger.js';
import * as retentionLegalHold from './migrations/0013_retention_legal_hold.js';
import * as keyRotations from './migrations/0014_key_rotations.js';
import * as reportShares from './migrations/0015_report_shares.js';
import * as webhooks from './migrations/0016_webhooks.js';
import * as featureFlags from './migrations/0017_feature_flags.js';
import type { Database } from './schema.js';

// A static list, not a folder scan: it works the same from src/ under tsx and from dist/.
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_accounts': accounts,
  '0003_mfa_tokens_mail': mfaTokensMail,
  '0004_audit_log': auditLog,
  '0005_login_throttle': loginThrottle,
  '0006_system_audit_actor': systemAuditActor,
  '0007_media_deletion': mediaDeletion,
  '0008_outbox_redacted_body': outboxRedactedBody,
  '0009_transparency_log': transparencyLog,
  '0010_media_history': mediaHistory,
  '0011_log_anchors': logAnchors,
  '0012_shred_ledger': shredLedger,
  '0013_retention_legal_hold': retentionLegalHold,
  '0014_key_rotations': keyRotations,
  '0015_report_shares': reportShares,
  '0016_webhooks': webhooks,
  '0017_feature_flags': featureFlags,
};

/** Every migration this code knows, oldest first (a backup from a newer version is refused by name). */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();

/** Applies pending migrations (under Kysely's lock, in one transaction); returns the names applied now. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return results.map((result) => result.migrationName);
}
