import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import {
  createHousekeepingService,
  type HousekeepingBlobs,
} from '../../src/services/housekeeping.service.js';
import { EncryptedFsBlobStore, sweepStaleTempFiles } from '../../src/storage/encrypted-fs.blob-store.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { capturingLogger, makeTempDir, newKeyring } from '../storage/storage-fixtures.js';

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
  let dataDir: string;
  let blobs: HousekeepingBlobs & { store: EncryptedFsBlobStore };

  beforeAll(async () => {
    database = await impl.open();
    dataDir = await makeTempDir();
    const { log } = capturingLogger();
    blobs = {
      store: new EncryptedFsBlobStore({ dataDir, keyring: newKeyring(), log }),
      sweepTempFiles: (olderThanSeconds) => sweepStaleTempFiles({ dataDir, olderThanSeconds }),
      log,
    };
  });
  afterAll(async () => {
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
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

    const housekeeping = createHousekeepingService({ db, settings, now: () => now, blobs });
    expect(await housekeeping.run()).toEqual({
      sessions: 3,
      oneTimeTokens: 2,
      outboxMessages: 1,
      jobs: 2,
      loginThrottle: 1,
      orphanBlobs: 0,
      tempFiles: 0,
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
      orphanBlobs: 0,
      tempFiles: 0,
    });
  });

  it('deletes blobs no row refers to and stale temp files, older than an hour only, and keys it does not know never', async () => {
    const db = database.db;
    const org = await createOrganisationRepository({ db }).create(`orphans ${randomUUID()}`);
    const mediaId = randomUUID();
    const analysisId = randomUUID();
    await db
      .insertInto('media')
      .values({
        id: mediaId,
        org_id: org.id,
        sha256: '0'.repeat(64),
        size_bytes: 3,
        mime_type: 'video/mp4',
        original_filename: null,
        blob_key: `media-${mediaId}`,
        status: 'stored',
        probe: '{}',
        uploader_type: null,
        uploader_id: null,
      })
      .execute();
    await db
      .insertInto('analyses')
      .values({
        id: analysisId,
        org_id: org.id,
        media_id: mediaId,
        pipeline_version: 'test',
        status: 'queued',
        progress: 0,
        stage: null,
        band: null,
        report: null,
        error_code: null,
        error_detail: null,
        attempts: 1,
        created_at: new Date(),
        started_at: null,
        finished_at: null,
        updated_at: new Date(),
      })
      .execute();

    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    const put = async (key: string, old: boolean) => {
      await blobs.store.put(key, Readable.from([randomBytes(3)]));
      if (old) await utimes(join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`), twoHoursAgo, twoHoursAgo);
    };
    const kept = [
      `media-${mediaId}`, // its media row exists
      `analysis-artifacts-${analysisId}`, // its analysis exists
      `media-${randomUUID()}`, // no row, but written a moment ago: an upload still registering
      'backup-unknown-shape', // a key this sweep does not understand
    ];
    const orphans = [
      `media-${randomUUID()}`, // a crash between the blob landing and its row committing
      `analysis-artifacts-${randomUUID()}`,
      `health-probe-${randomBytes(12).toString('hex')}`,
    ];
    for (const [index, key] of kept.entries()) await put(key, index !== 2);
    for (const key of orphans) await put(key, true);
    const tempDir = join(dataDir, 'blobs', '.tmp');
    await mkdir(tempDir, { recursive: true });
    await writeFile(join(tempDir, 'stale.part'), 'x');
    await utimes(join(tempDir, 'stale.part'), twoHoursAgo, twoHoursAgo);
    await writeFile(join(tempDir, 'writing.part'), 'x');

    const housekeeping = createHousekeepingService({ db, settings, now: () => new Date(), blobs });
    expect(await housekeeping.run()).toMatchObject({ orphanBlobs: 3, tempFiles: 1 });
    const listed: string[] = [];
    for await (const key of blobs.store.keys()) listed.push(key);
    expect(listed.sort()).toEqual([...kept].sort());
    expect(await readdir(tempDir)).toEqual(['writing.part']);
    expect(await housekeeping.run()).toMatchObject({ orphanBlobs: 0, tempFiles: 0 });
  });
});
