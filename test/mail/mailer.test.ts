import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as outboxRedactedBody from '../../src/db/migrations/0008_outbox_redacted_body.js';
import { createSmtpMailTransport } from '../../src/mail/smtp.mail-transport.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createOutboxRepository, type OutboxRepository } from '../../src/repositories/outbox.repository.js';
import { createMailer, redactSecrets } from '../../src/services/mailer.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const token = 'A'.repeat(43);
const link = `https://guardian.example.org/reset-password#token=${token}`;
const redactedLink = 'https://guardian.example.org/reset-password#token=[redacted]';

describeEachImplementation('mailer', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let outbox: OutboxRepository;
  let sink: SmtpSink;
  let orgId: string;

  beforeAll(async () => {
    database = await implementation.open();
    outbox = createOutboxRepository({ db: database.db });
    orgId = (await createOrganisationRepository({ db: database.db }).create(`org-${randomUUID()}`)).id;
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await sink?.close();
    await database?.destroy();
  });

  const mail = (to: string) => ({
    orgId,
    to,
    subject: 'Reset your SecureAI Guardian password',
    text: `Someone asked to reset the password of this account.\n\n${link}\n`,
    secrets: [token],
  });

  it('delivers through a real SMTP server in the background, then empties the stored body', async () => {
    const mailer = createMailer({
      outbox,
      transport: createSmtpMailTransport({ url: sink.url }),
      from: 'SecureAI Guardian <guardian@example.org>',
      now: () => new Date(),
      log: testLogger(),
    });
    const to = `${randomUUID()}@example.org`;
    await mailer.send(mail(to));
    const received = await sink.waitFor((message) => message.to.includes(to));
    expect(received.from).toBe('guardian@example.org');
    expect(received.subject).toBe('Reset your SecureAI Guardian password');
    expect(received.text).toContain(link);

    await mailer.idle();
    const [stored] = (await outbox.list({ orgId, limit: 100 })).filter((row) => row.to_address === to);
    expect(stored?.sent_at).toBeInstanceOf(Date);
    expect(stored?.body_text).toBe('');
    // The redacted copy stays: what was sent, without the link that only the recipient may hold.
    expect(stored?.body_redacted).toContain(redactedLink);
    expect(stored?.body_redacted).not.toContain(token);
    await mailer.close();
  });

  it('retries a refused message later and records the failure meanwhile', async () => {
    let clock = new Date('2030-01-01T00:00:00Z');
    const mailer = createMailer({
      outbox,
      transport: createSmtpMailTransport({ url: sink.url }),
      from: 'guardian@example.org',
      now: () => clock,
      log: testLogger(),
      retryDelaysMs: [60_000],
    });
    const to = `${randomUUID()}@example.org`;
    sink.refuseNext(1);
    await mailer.send(mail(to));
    await mailer.idle();
    const pending = (await outbox.list({ orgId, limit: 100 })).find((row) => row.to_address === to);
    expect(pending).toMatchObject({ sent_at: null, attempts: 1 });
    expect(pending?.error).toMatch(/451/);
    expect(await mailer.deliverDue()).toBe(0); // not due before the retry delay

    clock = new Date(clock.getTime() + 61_000);
    expect(await mailer.deliverDue()).toBe(1);
    expect((await sink.waitFor((message) => message.to.includes(to))).text).toContain(link);
    await mailer.close();
  });

  it('gives up after the last attempt and leaves the message listed with its error', async () => {
    let clock = new Date('2031-01-01T00:00:00Z');
    const mailer = createMailer({
      outbox,
      transport: createSmtpMailTransport({ url: sink.url }),
      from: 'guardian@example.org',
      now: () => clock,
      log: testLogger(),
      retryDelaysMs: [1000],
    });
    const to = `${randomUUID()}@example.org`;
    sink.refuseNext(2);
    await mailer.send(mail(to));
    await mailer.idle();
    clock = new Date(clock.getTime() + 2000);
    expect(await mailer.deliverDue()).toBe(1);
    clock = new Date(clock.getTime() + 3600_000);
    expect(await mailer.deliverDue()).toBe(0);
    const failed = (await outbox.list({ orgId, limit: 100 })).find((row) => row.to_address === to);
    expect(failed).toMatchObject({ sent_at: null, attempts: 2 });
    expect(failed?.body_text).toContain(link); // still readable by the operator, to pass on by hand
    expect(sink.received.some((message) => message.to.includes(to))).toBe(false);
    await mailer.close();
  });

  it('without SMTP keeps messages in the outbox, scoped to their organisation', async () => {
    const mailer = createMailer({
      outbox,
      transport: null,
      from: 'x@example.org',
      now: () => new Date(),
      log: testLogger(),
    });
    expect(mailer.delivery).toBe('outbox');
    const to = `${randomUUID()}@example.org`;
    await mailer.send(mail(to));
    expect(await mailer.deliverDue()).toBe(0);
    const listed = await outbox.list({ orgId, limit: 100 });
    expect(listed.find((row) => row.to_address === to)).toMatchObject({
      sent_at: null,
      body_text: mail(to).text,
      body_redacted: `Someone asked to reset the password of this account.\n\n${redactedLink}\n`,
    });
    const otherOrg = await createOrganisationRepository({ db: database.db }).create(`org-${randomUUID()}`);
    expect(await outbox.list({ orgId: otherOrg.id, limit: 100 })).toEqual([]);
    await mailer.close();
  });

  // Last in this block: it takes the table back to its shape before migration 0008 and forward again.
  it('migration 0008 gives messages written before it a redacted copy', async () => {
    await sql`alter table outbox_messages drop column body_redacted`.execute(database.db);
    const id = randomUUID();
    const invite = `https://guardian.example.org/accept-invite#token=${'b'.repeat(43)}`;
    const text = `Reset: ${link}\nInvite: ${invite}\nNo token here.`;
    await sql`
      insert into outbox_messages (id, org_id, to_address, subject, body_text)
      values (${id}, ${orgId}, ${'legacy@example.org'}, ${'Legacy'}, ${text})
    `.execute(database.db);
    await outboxRedactedBody.up(database.db as Kysely<unknown>);
    const [legacy] = (await outbox.list({ orgId, limit: 100 })).filter((row) => row.id === id);
    expect(legacy?.body_text).toBe(text);
    expect(legacy?.body_redacted).toBe(
      `Reset: ${redactedLink}\nInvite: https://guardian.example.org/accept-invite#token=[redacted]\nNo token here.`,
    );
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of every secret, and nothing else', () => {
    expect(redactSecrets('a=s3cret b=s3cret c=other d=keep', ['s3cret', 'other'])).toBe(
      'a=[redacted] b=[redacted] c=[redacted] d=keep',
    );
    expect(redactSecrets('no secrets here', [])).toBe('no secrets here');
  });

  it('refuses an empty secret rather than redacting nothing', () => {
    expect(() => redactSecrets('text', [''])).toThrow(RangeError);
  });
});

describe('SMTP transport', () => {
  it('refuses URLs that are not SMTP', () => {
    expect(() => createSmtpMailTransport({ url: 'http://mail.example.org' })).toThrow(/smtp/);
  });
});
