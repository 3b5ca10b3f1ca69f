import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Role, Session, SessionStage } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface NewSessionInput {
  userId: string;
  orgId: string;
  tokenHash: string;
  csrfSecret: string;
  stage: SessionStage;
  createdAt: Date;
  absoluteExpiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** A live session with what a request needs of its user and organisation. */
export type SessionWithUser = Session & {
  user_email: string;
  user_role: Role;
  org_name: string;
};

/** What a user sees of their sessions: no token hash, no CSRF secret. */
export type SessionSummary = Pick<
  Session,
  'id' | 'stage' | 'created_at' | 'last_seen_at' | 'absolute_expires_at' | 'ip' | 'user_agent'
>;

export interface SessionRepository {
  create(input: NewSessionInput, executor?: Executor): Promise<Session>;
  /** A session that is not revoked and whose user is active; expiry is the caller's to judge. */
  findLiveByTokenHash(tokenHash: string): Promise<SessionWithUser | null>;
  /** Only moves last_seen_at forward; callers throttle how often they call it. */
  touch(id: string, at: Date): Promise<void>;
  /** Replaces the token (and CSRF secret, stage, absolute expiry) of a live session; false when it is gone. */
  rotate(
    id: string,
    next: { tokenHash: string; csrfSecret: string; stage: SessionStage; absoluteExpiresAt: Date; at: Date },
  ): Promise<boolean>;
  /** True when this call revoked it; scoped to the user, so another user's session id reads as false. */
  revokeForUser(userId: string, id: string, at: Date): Promise<boolean>;
  revoke(id: string, at: Date): Promise<void>;
  revokeByTokenHash(tokenHash: string, at: Date): Promise<void>;
  /** Revokes every live session of the user except `keepId`; returns how many. */
  revokeAllForUser(userId: string, at: Date, keepId?: string, executor?: Executor): Promise<number>;
  /** Sessions neither revoked nor expired at `idleSince`/`now`, newest first. */
  listLiveForUser(userId: string, bounds: { now: Date; idleSince: Date }): Promise<SessionSummary[]>;
}

export function createSessionRepository(deps: { db: Kysely<Database> }): SessionRepository {
  const { db } = deps;
  return {
    async create(input, executor = db) {
      return executor
        .insertInto('sessions')
        .values({
          id: randomUUID(),
          user_id: input.userId,
          org_id: input.orgId,
          token_hash: input.tokenHash,
          csrf_secret: input.csrfSecret,
          stage: input.stage,
          created_at: input.createdAt,
          last_seen_at: input.createdAt,
          absolute_expires_at: input.absoluteExpiresAt,
          ip: input.ip,
          user_agent: input.userAgent,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async findLiveByTokenHash(tokenHash) {
      const found = await db
        .selectFrom('sessions')
        .innerJoin('users', (join) =>
          join.onRef('users.id', '=', 'sessions.user_id').onRef('users.org_id', '=', 'sessions.org_id'),
        )
        .innerJoin('organisations', 'organisations.id', 'sessions.org_id')
        .selectAll('sessions')
        .select(['users.email as user_email', 'users.role as user_role', 'organisations.name as org_name'])
        .where('sessions.token_hash', '=', tokenHash)
        .where('sessions.revoked_at', 'is', null)
        .where('users.status', '=', 'active')
        .executeTakeFirst();
      return found ?? null;
    },

    async touch(id, at) {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: at })
        .where('id', '=', id)
        .where('last_seen_at', '<', at)
        .execute();
    },

    async rotate(id, next) {
      const result = await db
        .updateTable('sessions')
        .set({
          token_hash: next.tokenHash,
          csrf_secret: next.csrfSecret,
          stage: next.stage,
          absolute_expires_at: next.absoluteExpiresAt,
          last_seen_at: next.at,
        })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async revokeForUser(userId, id, at) {
      if (!isUuid(id)) return false;
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async revoke(id, at) {
      await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async revokeByTokenHash(tokenHash, at) {
      await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async revokeAllForUser(userId, at, keepId, executor = db) {
      let query = executor
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null);
      if (keepId) query = query.where('id', '<>', keepId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    listLiveForUser: (userId, bounds) =>
      db
        .selectFrom('sessions')
        .select(['id', 'stage', 'created_at', 'last_seen_at', 'absolute_expires_at', 'ip', 'user_agent'])
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('absolute_expires_at', '>', bounds.now)
        .where('last_seen_at', '>', bounds.idleSince)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute(),
  };
}
