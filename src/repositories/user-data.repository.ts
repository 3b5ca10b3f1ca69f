import { sql, type Kysely } from 'kysely';
import type { AuditTables } from '../db/audit-schema.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

/** Rows an export lists at most per kind; the export says when one was cut. */
export const exportRowLimit = 10_000;

/** What the platform holds about one person (GDPR art. 15/20), and the erasure of their account (art. 17). */
export function createUserDataRepository(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  const withAudit = db.withTables<AuditTables>();

  return {
    /** Ids of the media this person uploaded that is still stored. */
    async storedUploadIds(orgId: string, userId: string): Promise<string[]> {
      if (!isUuid(userId)) return [];
      const rows = await db
        .selectFrom('media')
        .select('id')
        .where('org_id', '=', orgId)
        .where('uploader_type', '=', 'user')
        .where('uploader_id', '=', userId)
        .where('status', '=', 'stored')
        .orderBy('created_at')
        .execute();
      return rows.map((row) => row.id);
    },

    async uploads(orgId: string, userId: string) {
      return db
        .selectFrom('media')
        .select([
          'id',
          'sha256',
          'size_bytes',
          'mime_type',
          'original_filename',
          'status',
          'created_at',
          'deleted_at',
          'legal_hold_reason',
        ])
        .where('org_id', '=', orgId)
        .where('uploader_type', '=', 'user')
        .where('uploader_id', '=', userId)
        .orderBy('created_at')
        .limit(exportRowLimit + 1)
        .execute();
    },

    async analysesOf(orgId: string, mediaIds: string[]) {
      if (mediaIds.length === 0) return [];
      return db
        .selectFrom('analyses')
        .select(['id', 'media_id', 'status', 'band', 'pipeline_version', 'created_at', 'finished_at'])
        .where('org_id', '=', orgId)
        .where('media_id', 'in', mediaIds)
        .orderBy('created_at')
        .execute();
    },

    async sessions(userId: string) {
      return db
        .selectFrom('sessions')
        .select([
          'id',
          'stage',
          'created_at',
          'last_seen_at',
          'absolute_expires_at',
          'revoked_at',
          'ip',
          'user_agent',
        ])
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .limit(exportRowLimit)
        .execute();
    },

    async twoFactor(userId: string) {
      const totp = await db
        .selectFrom('user_totp')
        .select(['created_at', 'confirmed_at'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
      const codes = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return { totp: totp ?? null, unusedRecoveryCodes: Number(codes.count) };
    },

    /** Entries this person made or that are about them, oldest first (the chain order). */
    async auditEntries(userId: string) {
      return withAudit
        .selectFrom('audit_events')
        .select([
          'id',
          'seq',
          'at',
          'org_id',
          'actor_type',
          'actor_id',
          'action',
          'outcome',
          'target_type',
          'target_id',
          'ip',
          'user_agent',
          'details',
        ])
        .where((eb) => eb.or([eb('actor_id', '=', userId), eb('target_id', '=', userId)]))
        .orderBy('seq')
        .limit(exportRowLimit + 1)
        .execute();
    },

    /** API keys whose creation the audit log attributes to this person (keys belong to the organisation). */
    async apiKeysCreatedBy(orgId: string, userId: string) {
      const created = withAudit
        .selectFrom('audit_events')
        .select('target_id')
        .where('org_id', '=', orgId)
        .where('actor_type', '=', 'user')
        .where('actor_id', '=', userId)
        .where('action', '=', 'apikey.create');
      return (
        db
          .selectFrom('api_keys')
          .select(['id', 'name', 'prefix', 'role', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
          .where('org_id', '=', orgId)
          // target_id is text (any kind of target): compare as text.
          .where((eb) => eb(sql<string>`${sql.ref('id')}::text`, 'in', created))
          .orderBy('created_at')
          .execute()
      );
    },

    /**
     * The account stays (the audit trail and held media point at its id) but no longer identifies anyone
     * or lets anyone in: email replaced by `erased-<id>@erased.invalid`, password unusable, disabled,
     * sessions, TOTP secret, recovery codes, one-time tokens and undelivered mail to the old address removed.
     */
    async pseudonymise(executor: Executor, user: { id: string; email: string }, at: Date) {
      await executor
        .updateTable('users')
        .set({
          email: `erased-${user.id}@erased.invalid`,
          // Not a PHC string: verification fails closed for any password.
          password_hash: '!erased',
          status: 'disabled',
          updated_at: at,
        })
        .where('id', '=', user.id)
        .execute();
      const sessions = await executor
        .deleteFrom('sessions')
        .where('user_id', '=', user.id)
        .executeTakeFirst();
      await executor.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
      await executor.deleteFrom('user_totp').where('user_id', '=', user.id).execute();
      await executor
        .deleteFrom('one_time_tokens')
        .where((eb) => eb.or([eb('user_id', '=', user.id), eb('email', '=', user.email)]))
        .execute();
      const mail = await executor
        .deleteFrom('outbox_messages')
        .where('to_address', '=', user.email)
        .executeTakeFirst();
      return { sessionsEnded: Number(sessions.numDeletedRows), mailRemoved: Number(mail.numDeletedRows) };
    },
  };
}

export type UserDataRepository = ReturnType<typeof createUserDataRepository>;
