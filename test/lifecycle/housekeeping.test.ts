import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createHousekeepingService } from '../../src/services/housekeeping.service.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

const now = new Date('2030-01-10T12:00:00.000Z');
const minutes = (n: number) => new Date(now.getTime() - n * 60_000);
const days = (n: number) => new Date(now.getTime() - n * 86_400_000);
const ahead = (n: number) => new Date(now.getTime() + n * 60_000);
const settings = {
  sessionIdleMinutes: 30,
  outboxSentRetentionDays: 7,
  jobDoneRetentionDays: 1,
  jobFailedRetentionDays: 7,
};

describeEachImplementation('housekeeping', databaseImplementations(), (impl) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await impl.open();
  });
  afterAll(async () => {
    await database.destroy();
  });

  it('deletes exactly the expired rows and nothing live, and a second run deletes nothing', async () => {
    const db = database.db;
    const org = await createOrganisationRepository({ db }).create(`housekeeping ${randomUUID()}`);
    const userId = randomUUID();
    await db
      .insertInto('users')
      .values({
        id: userId,
        org_id: org.id,
        email: `${userId}@example.org`,
        password_hash: 'x',
        role: 'analyst',
        created_at: days(30),
        updated_at: days(30),
        password_changed_at: days(30),
      })
      .execute();

    const session = (_name: string, values: { lastSeen: Date; absolute: Date; revoked?: Date }) => ({
      id: randomUUID(),
      user_id: userId,
      org_id: org.id,
      token_hash: randomBytes(32).toString('hex'),
      csrf_secret: 'c',
      stage: 'complete' as const,
      created_at: days(1),
      last_seen_at: values.lastSeen,
      absolute_expires_at: values.absolute,
      revoked_at: values.revoked ?? null,
      ip: null,
      user_agent: null,
    });
    const sessions = {
      live: session('live', { lastSeen: minutes(29), absolute: ahead(60) }),
      idle: session('idle', { lastSeen: minutes(30), absolute: ahead(60) }),
      absolute: session('absolute', { lastSeen: minutes(1), absolute: minutes(0) }),
      revoked: session('revoked', { lastSeen: minutes(1), absolute: ahead(60), revoked: minutes(1) }),
    };
    await db.insertInto('sessions').values(Object.values(sessions)).execute();

    const token = (values: { expires: Date; used?: Date }) => ({
      id: randomUUID(),
      purpose: 'password_reset' as const,
      token_hash: randomBytes(32).toString('hex'),
      org_id: org.id,
      user_id: userId,
      email: `${userId}@example.org`,
      role: null,
      created_by: null,
      created_at: days(1),
      expires_at: values.expires,
      used_at: values.used ?? null,
    });
    const tokens = {
      live: token({ expires: ahead(10) }),
      used: token({ expires: ahead(10), used: minutes(5) }),
      expired: token({ expires: minutes(0) }),
    };
    await db.insertInto('one_time_tokens').values(Object.values(tokens)).execute();

    const mail = (values: { sent: Date | null; created: Date }) => ({
      id: randomUUID(),
      org_id: org.id,
      to_address: 'someone@example.org',
      subject: 's',
      body_text: values.sent ? '' : 'secret link',
      body_redacted: 'link [redacted]',
      created_at: values.created,
      sent_at: values.sent,
      next_attempt_at: values.created,
    });
    const outbox = {
      unsentOld: mail({ sent: null, created: days(60) }),
      sentRecent: mail({ sent: days(6), created: days(6) }),
      sentOld: mail({ sent: days(7), created: days(8) }),
    };
    await db.insertInto('outbox_messages').values(Object.values(outbox)).execute();

    const job = (status: 'waiting' | 'active' | 'done' | 'failed', updated: Date) => ({
      id: randomUUID(),
      name: 'analysis.run',
      dedupe_key: randomUUID(),
      payload: '{}',
      status,
      attempts: 1,
      max_attempts: 3,
      run_at: updated,
      progress: 0,
      created_at: updated,
      updated_at: updated,
    });
    const jobs = {
      waitingOld: job('waiting', days(30)),
      activeOld: job('active', days(30)),
      doneRecent: job('done', minutes(60 * 23)),
      doneOld: job('done', days(1.01)),
      failedRecent: job('failed', days(6)),
      failedOld: job('failed', days(7.01)),
    };
    await db.insertInto('jobs').values(Object.values(jobs)).execute();
    await db
      .insertInto('login_throttle')
      .values([
        { key: `live-${randomUUID()}`, state: '{}', expires_at: ahead(5) },
        { key: `gone-${randomUUID()}`, state: '{}', expires_at: minutes(1) },
      ])
      .execute();

    const housekeeping = createHousekeepingService({ db, settings, now: () => now });
    expect(await housekeeping.run()).toEqual({
      sessions: 3,
      oneTimeTokens: 2,
      outboxMessages: 1,
      jobs: 2,
      loginThrottle: 1,
    });

    const ids = async (table: 'sessions' | 'one_time_tokens' | 'outbox_messages' | 'jobs') =>
      (await db.selectFrom(table).select('id').execute()).map((row) => row.id).sort();
    expect(await ids('sessions')).toEqual([sessions.live.id]);
    expect(await ids('one_time_tokens')).toEqual([tokens.live.id]);
    expect(await ids('outbox_messages')).toEqual([outbox.unsentOld.id, outbox.sentRecent.id].sort());
    expect(await ids('jobs')).toEqual(
      [jobs.waitingOld.id, jobs.activeOld.id, jobs.doneRecent.id, jobs.failedRecent.id].sort(),
    );
    const throttle = await db.selectFrom('login_throttle').select('key').execute();
    expect(throttle.map((row) => row.key.split('-')[0])).toEqual(['live']);

    expect(await housekeeping.run()).toEqual({
      sessions: 0,
      oneTimeTokens: 0,
      outboxMessages: 0,
      jobs: 0,
      loginThrottle: 0,
    });
  });
});
