import type { Kysely } from 'kysely';
import type { Database, Organisation } from '../db/schema.js';

/** Per-organisation security settings, and the one per-request question they raise. */
export interface OrganisationSettingsRepository {
  /** The organisation after the change, or null when it does not exist. */
  setRequireAdmin2fa(orgId: string, required: boolean): Promise<Organisation | null>;
  /** True when the organisation requires 2FA of admins and this user has no confirmed TOTP: one query. */
  isAdminEnrolmentMissing(orgId: string, userId: string): Promise<boolean>;
}

export function createOrganisationSettingsRepository(deps: {
  db: Kysely<Database>;
}): OrganisationSettingsRepository {
  const { db } = deps;
  return {
    async setRequireAdmin2fa(orgId, required) {
      const updated = await db
        .updateTable('organisations')
        .set({ require_admin_2fa: required })
        .where('id', '=', orgId)
        .returningAll()
        .executeTakeFirst();
      return updated ?? null;
    },

    async isAdminEnrolmentMissing(orgId, userId) {
      const found = await db
        .selectFrom('organisations')
        .select((eb) =>
          eb
            .exists(
              eb
                .selectFrom('user_totp')
                .select('user_totp.user_id')
                .where('user_totp.user_id', '=', userId)
                .where('user_totp.confirmed_at', 'is not', null),
            )
            .as('enrolled'),
        )
        .where('id', '=', orgId)
        .where('require_admin_2fa', '=', true)
        .executeTakeFirst();
      return found !== undefined && !found.enrolled;
    },
  };
}
