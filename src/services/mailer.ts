import type { Logger } from 'pino';
import type { OutboxMessage } from '../db/schema.js';
import type { OutboxRepository } from '../repositories/outbox.repository.js';
import { createBackgroundWork } from './background-work.js';

export interface OutgoingMail {
  /** The organisation the message concerns: its admins see it (secrets redacted) in the outbox API. */
  orgId: string | null;
  to: string;
  subject: string;
  text: string;
  /**
   * What in `text` is for the recipient's mailbox only (one-time tokens): the outbox API shows
   * `[redacted]` in their place; only SMTP delivery and the host's `guardian outbox list` see them.
   */
  secrets: readonly string[];
}

const redactedMarker = '[redacted]';

/** `text` with every occurrence of each secret replaced by the marker. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((redacted, secret) => {
    if (secret === '') throw new RangeError('an empty secret cannot be redacted');
    return redacted.split(secret).join(redactedMarker);
  }, text);
}

/** Hands a message to a mail server; rejects when the server did not accept it. */
export interface MailTransport {
  deliver(mail: { from: string; to: string; subject: string; text: string }): Promise<void>;
  close(): Promise<void>;
}

/**
 * How services send mail. Every message is first written to the outbox table, so it survives a crash and a
 * slow mail server never holds up a request. With SMTP configured it is delivered from there in the
 * background (retried with backoff, body emptied once accepted); without, it stays there for the operator to
 * read with `guardian outbox list` and pass on. Admins see only the redacted copy (GET /api/v1/outbox).
 */
export interface Mailer {
  readonly delivery: 'smtp' | 'outbox';
  send(mail: OutgoingMail): Promise<void>;
}

export interface MailerDeps {
  outbox: OutboxRepository;
  /** Null: no SMTP, messages stay in the outbox. */
  transport: MailTransport | null;
  from: string;
  now: () => Date;
  log: Logger;
  /** Delay before each retry; its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
}

const defaultRetryDelaysMs = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000];
// Longer than a whole SMTP exchange may take (see the transport's timeouts).
const deliveryLeaseMs = 2 * 60_000;
const batchSize = 20;
const maxErrorLength = 500;

export function createMailer(deps: MailerDeps) {
  const { outbox, transport, now } = deps;
  const log = deps.log.child({ component: 'mailer' });
  const retryDelaysMs = deps.retryDelaysMs ?? defaultRetryDelaysMs;
  const background = createBackgroundWork({ log });
  let sweeping = false;
  let sweepAgain = false;

  async function deliverOne(transport: MailTransport, message: OutboxMessage): Promise<void> {
    try {
      await transport.deliver({
        from: deps.from,
        to: message.to_address,
        subject: message.subject,
        text: message.body_text,
      });
      await outbox.markSent(message.id, now());
      log.info({ messageId: message.id, attempt: message.attempts }, 'mail delivered');
    } catch (error) {
      const retryDelay = retryDelaysMs[message.attempts - 1];
      const retryAt = retryDelay === undefined ? null : new Date(now().getTime() + retryDelay);
      await outbox.markFailed(message.id, describeFailure(error), retryAt);
      log.warn(
        { messageId: message.id, attempt: message.attempts, retryAt, error: describeFailure(error) },
        retryAt ? 'mail delivery failed; will retry' : 'mail delivery failed; no attempts left',
      );
    }
  }

  /** Delivers every due message; returns how many were attempted. */
  async function deliverDue(): Promise<number> {
    if (!transport) return 0;
    let attempted = 0;
    for (;;) {
      const claimed = await outbox.claimDue({
        now: now(),
        leaseMs: deliveryLeaseMs,
        maxAttempts: retryDelaysMs.length + 1,
        limit: batchSize,
      });
      for (const message of claimed) await deliverOne(transport, message);
      attempted += claimed.length;
      if (claimed.length < batchSize) return attempted;
    }
  }

  /** One sweep at a time per process; a request during a sweep makes it go round once more. */
  function sweepSoon(): void {
    if (sweeping) {
      sweepAgain = true;
      return;
    }
    sweeping = true;
    background.run('mail-delivery', async () => {
      try {
        do {
          sweepAgain = false;
          await deliverDue();
        } while (sweepAgain);
      } finally {
        sweeping = false;
      }
    });
  }

  return {
    delivery: transport ? 'smtp' : 'outbox',
    async send(mail: OutgoingMail) {
      const message = await outbox.add(
        {
          orgId: mail.orgId,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          redactedText: redactSecrets(mail.text, mail.secrets),
        },
        now(),
      );
      log.info(
        { messageId: message.id, orgId: mail.orgId, delivery: transport ? 'smtp' : 'outbox' },
        'mail queued',
      );
      if (transport) sweepSoon();
    },
    deliverDue,
    /** Picks up retries and messages a crashed process had claimed; returns a stop function. */
    startSweeper(intervalMs: number): () => void {
      if (!transport) return () => {};
      const timer = setInterval(sweepSoon, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    /** Waits for deliveries in progress (shutdown, tests). */
    idle: () => background.idle(),
    async close() {
      await background.idle();
      await transport?.close();
    },
  } satisfies Mailer & Record<string, unknown>;
}

export type MailerService = ReturnType<typeof createMailer>;

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return `${typeof code === 'string' ? `${code}: ` : ''}${message}`.slice(0, maxErrorLength);
}
