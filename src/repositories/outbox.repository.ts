import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, OutboxMessage } from '../db/schema.js';

export interface NewOutboxMessage {
  orgId: string | null;
  to: string;
  subject: string;
  /** In full: what SMTP delivers and the host's CLI shows. */
  text: string;
  /** The same with its secrets replaced: all the API ever shows. */
  redactedText: string;
}

export interface OutboxRepository {
  /** Due for delivery at once: `at` is the app's clock, the one claimDue is later asked with. */
  add(message: NewOutboxMessage, at: Date): Promise<OutboxMessage>;
  /**
   * Claims up to `limit` undelivered messages that are due and still have attempts left: counts the attempt
   * and pushes `next_attempt_at` out by `leaseMs`, so a sender that dies mid-delivery only delays a retry.
   */
  claimDue(input: {
    now: Date;
    leaseMs: number;
    maxAttempts: number;
    limit: number;
  }): Promise<OutboxMessage[]>;
  /**
   * Records delivery and empties the full body: links in it must not stay at rest once SMTP has them (the
   * redacted copy stays).
   */
  markSent(id: string, at: Date): Promise<void>;
  /** `retryAt` null: no attempts left; the message stays listed with its error. */
  markFailed(id: string, error: string, retryAt: Date | null): Promise<void>;
  /** Newest first; `orgId` undefined lists every organisation's and organisation-less messages (CLI). */
  list(input: { orgId?: string; limit: number }): Promise<OutboxMessage[]>;
}

export function createOutboxRepository(deps: { db: Kysely<Database> }): OutboxRepository {
  const { db } = deps;
  return {
    async add(message, at) {
      return db
        .insertInto('outbox_messages')
        .values({
          id: randomUUID(),
          org_id: message.orgId,
          to_address: message.to,
          subject: message.subject,
          body_text: message.text,
          body_redacted: message.redactedText,
          created_at: at,
          next_attempt_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async claimDue({ now, leaseMs, maxAttempts, limit }) {
      // SKIP LOCKED: several processes may sweep the outbox; each message goes to one of them.
      return db
        .updateTable('outbox_messages')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          next_attempt_at: new Date(now.getTime() + leaseMs),
        }))
        .where(
          'id',
          'in',
          db
            .selectFrom('outbox_messages')
            .select('id')
            .where('sent_at', 'is', null)
            .where('next_attempt_at', '<=', now)
            .where('attempts', '<', maxAttempts)
            .orderBy('next_attempt_at')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .execute();
    },

    async markSent(id, at) {
      await db
        .updateTable('outbox_messages')
        .set({ sent_at: at, body_text: '', error: null })
        .where('id', '=', id)
        .execute();
    },

    async markFailed(id, error, retryAt) {
      // Without a retry time the claim's lease stays: `attempts` alone keeps the message out of claimDue.
      await db
        .updateTable('outbox_messages')
        .set(retryAt ? { error, next_attempt_at: retryAt } : { error })
        .where('id', '=', id)
        .execute();
    },

    list: ({ orgId, limit }) => {
      let query = db.selectFrom('outbox_messages').selectAll();
      if (orgId !== undefined) query = query.where('org_id', '=', orgId);
      return query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    },
  };
}
