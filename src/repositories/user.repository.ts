import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Role, User, UserStatus } from '../db/schema.js';
import { AppError, conflict } from '../services/errors.js';
import { isUuid } from './is-uuid.js';

export interface NewUserInput {
  orgId: string;
  /** Already normalised (trimmed, lower-cased). */
  email: string;
  passwordHash: string;
  role: Role;
}

/** Listings never carry the password hash. */
export type UserSummary = Omit<User, 'password_hash'>;

export interface UserChange {
  role?: Role;
  status?: UserStatus;
}

export interface UserRepository {
  /** Throws AppError conflict when the email is taken. */
  create(input: NewUserInput, executor?: Executor): Promise<User>;
  findByEmail(email: string): Promise<User | null>;
  /** Scoped by organisation: another organisation's user reads as null. */
  findById(orgId: string, id: string): Promise<User | null>;
  listByOrg(orgId: string): Promise<UserSummary[]>;
  /**
   * Applies a role/status change unless it would leave the organisation without an active admin
   * (AppError 409 `last-admin`); null when the user is not in this organisation.
   */
  update(orgId: string, id: string, change: UserChange, at: Date): Promise<UserSummary | null>;
  setPasswordHash(userId: string, passwordHash: string, at: Date, executor?: Executor): Promise<void>;
  /**
   * The same password under a new hash (new argon2 parameters): not a password change, so
   * `password_changed_at` stays. Only while the stored hash is still `previousHash`, so a password changed
   * meanwhile is never overwritten; false when it was.
   */
  replacePasswordHash(userId: string, previousHash: string, passwordHash: string): Promise<boolean>;
}

const summaryColumns = [
  'id',
  'org_id',
  'email',
  'role',
  'status',
  'created_at',
  'updated_at',
  'password_changed_at',
] as const;

export function createUserRepository(deps: { db: Kysely<Database> }): UserRepository {
  const { db } = deps;
  return {
    async create(input, executor = db) {
      const created = await executor
        .insertInto('users')
        .values({
          id: randomUUID(),
          org_id: input.orgId,
          email: input.email,
          password_hash: input.passwordHash,
          role: input.role,
        })
        .onConflict((oc) => oc.column('email').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!created) throw conflict('an account with this email already exists');
      return created;
    },

    async findByEmail(email) {
      return (await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()) ?? null;
    },

    async findById(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .executeTakeFirst();
      return found ?? null;
    },

    listByOrg: (orgId) =>
      db.selectFrom('users').select(summaryColumns).where('org_id', '=', orgId).orderBy('email').execute(),

    async update(orgId, id, change, at) {
      if (!isUuid(id)) return null;
      return db.transaction().execute(async (trx) => {
        // Locking the organisation's active admins serialises concurrent demotions of the last two admins.
        const admins = await trx
          .selectFrom('users')
          .select('id')
          .where('org_id', '=', orgId)
          .where('role', '=', 'admin')
          .where('status', '=', 'active')
          .forUpdate()
          .execute();
        const target = await trx
          .selectFrom('users')
          .select(summaryColumns)
          .where('id', '=', id)
          .where('org_id', '=', orgId)
          .forUpdate()
          .executeTakeFirst();
        if (!target) return null;
        const role = change.role ?? target.role;
        const status = change.status ?? target.status;
        const wasActiveAdmin = target.role === 'admin' && target.status === 'active';
        const staysActiveAdmin = role === 'admin' && status === 'active';
        if (wasActiveAdmin && !staysActiveAdmin && admins.length <= 1) {
          throw new AppError(
            409,
            'last-admin',
            'Conflict',
            'the organisation would have no active admin left; make another user admin first',
          );
        }
        return trx
          .updateTable('users')
          .set({ role, status, updated_at: at })
          .where('id', '=', id)
          .where('org_id', '=', orgId)
          .returning(summaryColumns)
          .executeTakeFirstOrThrow();
      });
    },

    async setPasswordHash(userId, passwordHash, at, executor = db) {
      await executor
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: at, updated_at: at })
        .where('id', '=', userId)
        .execute();
    },

    async replacePasswordHash(userId, previousHash, passwordHash) {
      const result = await db
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('id', '=', userId)
        .where('password_hash', '=', previousHash)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
