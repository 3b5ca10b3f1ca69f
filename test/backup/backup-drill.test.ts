import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import type { BackupSummary } from '../../src/backup/backup-create.js';
import { loadConfig } from '../../src/config/load-config.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';
import { emptyPostgresDatabase, populate, readBlob, rowCounts, runCli } from './backup-fixtures.js';

const masterKey = randomBytes(32).toString('hex');
const baseEnv = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  MASTER_KEY: masterKey,
  WORKER_CONCURRENCY: '0',
  REDIS_URL: '',
};

describeEachImplementation('backup and restore drill', databaseImplementations(), (implementation) => {
  let work: string;
  let sourceEnv: Record<string, string>;
  let destroySource: () => Promise<void>;
  let counts: Record<string, number>;
  let media: Awaited<ReturnType<typeof populate>>['media'];
  let plaintexts: Map<string, Buffer>;
  const backups = () => join(work, 'backups');
  const first = () => join(backups(), '2026-03-01');
  const later = () => join(backups(), '2026-03-02');
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'guardian-backup-drill-'));
    // PGlite: a new DATA_DIR is enough (the platform creates and migrates it); PostgreSQL: a new database.
    const store = implementation.name === 'postgres' ? await implementation.open() : null;
    await store?.close();
    destroySource = async () => store?.destroy();
    sourceEnv = {
      ...baseEnv,
      DATA_DIR: store?.settings.dataDir ?? join(work, 'source'),
      DATABASE_URL: store?.settings.databaseUrl ?? '',
    };
    const platform = await openPlatform(loadConfig(sourceEnv), testLogger());
    try {
      ({ media } = await populate(platform, work));
      counts = await rowCounts(platform.database.db);
      plaintexts = new Map();
      for (const key of [...media.map((item) => item.blobKey), 'artifact-drill-0001'])
        plaintexts.set(key, await readBlob(platform, key));
      // Through the running server's management command: the path `guardian backup create` takes.
      const started = performance.now();
      const summary = (await platform.managementCommands['backup.create']({ to: first() })) as BackupSummary;
      console.log(
        `[backup drill ${implementation.name}] backup: ${(performance.now() - started).toFixed(0)} ms (${summary.blobs} blobs, ${summary.blobBytes + summary.databaseBytes} bytes)`,
      );
      expect(summary.blobs).toBe(4);
      // A deletion after the first backup: the blob is shredded and the ledger says so; a later backup carries it.
      await shred(platform, media[2]!.blobKey, media[2]!.orgId);
    } finally {
      await platform.close();
    }
    // With no server running, the CLI opens the deployment itself.
    const created = await runCli(['backup', 'create', '--to', later()], sourceEnv);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/written to .*: database \d+ bytes, 3 blobs/);
  }, 180_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await destroySource?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function emptyTarget(): Promise<Record<string, string>> {
    const dataDir = await mkdtemp(join(tmpdir(), 'guardian-restore-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let databaseUrl = '';
    if (implementation.name === 'postgres') {
      const created = await emptyPostgresDatabase(process.env.TEST_DATABASE_URL ?? '');
      cleanups.push(created.drop);
      databaseUrl = created.url;
    }
    return { ...baseEnv, DATA_DIR: dataDir, DATABASE_URL: databaseUrl };
  }

  it('verifies both backups', async () => {
    for (const directory of [first(), later()]) {
      const result = await runCli(['backup', 'verify', directory], sourceEnv);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('intact');
    }
  });

  it('restores the older backup into an empty deployment: same rows and bytes, audit chain and log intact, the later deletion kept out', async () => {
    // The later deletion reaches this restore through the sibling backup; --shred-ledger adds another.
    const ledger = join(work, 'ledger.json');
    await writeFile(
      ledger,
      JSON.stringify([
        {
          blobKey: 'artifact-drill-0001',
          organisationId: null,
          reason: 'retention',
          shreddedAt: '2026-03-03T00:00:00.000Z',
        },
      ]),
    );
    const targetEnv = await emptyTarget();
    const started = performance.now();
    const restored = await runCli(
      ['backup', 'restore', '--from', first(), '--shred-ledger', ledger],
      targetEnv,
    );
    const restoreMs = performance.now() - started;
    expect(restored.code, restored.stderr).toBe(0);
    console.log(`[backup drill ${implementation.name}] restore: ${restoreMs.toFixed(0)} ms`);
    expect(restored.stdout).toContain(
      '(0 from this backup, 1 from 1 other backups, 1 from --shred-ledger); 2 blobs not restored, 1 media marked deleted',
    );

    const platform = await openPlatform(loadConfig(targetEnv), testLogger());
    try {
      // The restore's own audit entry, and the two ledger entries it applied.
      expect(await rowCounts(platform.database.db)).toEqual({
        ...counts,
        audit_events: counts.audit_events! + 1,
        shredded_blobs: counts.shredded_blobs! + 2,
      });
      for (const item of media.slice(0, 2)) {
        expect((await readBlob(platform, item.blobKey)).equals(item.bytes)).toBe(true);
        expect((await readBlob(platform, item.blobKey)).equals(plaintexts.get(item.blobKey)!)).toBe(true);
      }
      expect(await platform.blobStore.size(media[2]!.blobKey)).toBeNull();
      expect(await platform.blobStore.size('artifact-drill-0001')).toBeNull();
      const shreddedRow = await platform.database.db
        .selectFrom('media')
        .select(['status', 'original_filename'])
        .where('id', '=', media[2]!.mediaId)
        .executeTakeFirstOrThrow();
      expect(shreddedRow).toEqual({ status: 'deleted', original_filename: null });
      const audit = (await platform.managementCommands['audit.verify']()) as { ok: boolean };
      expect(audit.ok).toBe(true);
      const log = (await platform.managementCommands['log.check']({})) as { ok: boolean; leaves: number };
      expect(log).toMatchObject({ ok: true, leaves: 1 });
    } finally {
      await platform.close();
    }
    const again = await runCli(['backup', 'restore', '--from', first()], targetEnv);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/refused: the target database is not empty/);
  });

  it('refuses a restore into the deployment the backup came from (not empty), exit 2', async () => {
    const result = await runCli(['backup', 'restore', '--from', first()], sourceEnv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/refused: the target database is not empty/);
  });

  it.each([
    ['a tampered dump', 'database.sagb', async (dir: string) => flipByte(join(dir, 'database.sagb'))],
    ['an edited manifest', 'manifest.sagb', async (dir: string) => flipByte(join(dir, 'manifest.sagb'))],
    [
      'a missing blob file',
      `blobs/${'media-'}`,
      async (dir: string, blobKey: string) => rm(join(dir, 'blobs', `${blobKey}.sagb`)),
    ],
  ])('`backup verify` fails naming %s', async (_name, file, tamper) => {
    const copy = join(work, `tampered-${randomBytes(4).toString('hex')}`, 'backup');
    await cp(first(), copy, { recursive: true });
    await tamper(copy, media[0]!.blobKey);
    const result = await runCli(['backup', 'verify', '--from', copy], sourceEnv);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`first: ${file}`);
    const targetEnv = await emptyTarget();
    const restore = await runCli(['backup', 'restore', '--from', copy], targetEnv);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('fails verification');
  });
});

async function shred(platform: Platform, blobKey: string, orgId: string): Promise<void> {
  await platform.blobStore.delete(blobKey);
  await platform.database.db
    .insertInto('shredded_blobs')
    .values({ blob_key: blobKey, organisation_id: orgId, reason: 'user-deletion', shredded_at: new Date() })
    .execute();
}

async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  const at = bytes.length - 20;
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(path, bytes);
}
