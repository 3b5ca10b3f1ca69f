import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startAdminSocket } from '../../src/app/admin-socket.js';
import { main } from '../../src/cli/main.js';
import type { AuditTables } from '../../src/db/audit-schema.js';
import { pathExists } from '../../src/storage/path-exists.js';
import { enableTotp, openAccountApp, totpCode, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';
import { collect } from '../storage/storage-fixtures.js';

// The embedded default only: one server holding DATA_DIR, reached by the CLI through its admin socket.
const embedded = databaseImplementations().filter((implementation) => implementation.name === 'pglite');

describeEachImplementation('guardian keys on a running embedded server', embedded, (implementation) => {
  let account: AccountApp;
  let socket: { close(): Promise<void> };
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    account = await openAccountApp(implementation);
    const { config } = account.platform;
    socket = await startAdminSocket({
      dataDir: config.DATA_DIR,
      commands: account.platform.managementCommands,
      log: testLogger(),
    });
    for (const name of ['DATABASE_URL', 'MASTER_KEY', 'MASTER_KEY_FILE', 'MASTER_KEY_PREVIOUS'])
      delete process.env[name];
    Object.assign(process.env, { DATA_DIR: config.DATA_DIR, LOG_LEVEL: 'silent' });
  });

  afterAll(async () => {
    process.env = savedEnv;
    await socket?.close();
    await account?.close();
  });

  async function cli(...argv: string[]): Promise<{ code: number; output: string }> {
    const printed: string[] = [];
    const spies = [
      vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line))),
      vi.spyOn(console, 'error').mockImplementation((line: unknown) => void printed.push(String(line))),
    ];
    try {
      return { code: await main(argv), output: printed.join('\n') };
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it('rotates to a generated key while serving, then retires the old one', async () => {
    const { platform } = account;
    const dataDir = platform.config.DATA_DIR;
    const org = await account.createOrg();
    const user = await account.createUser(org.id, 'analyst');
    const client = account.client();
    await client.login(user.email);
    const { secret } = await enableTotp(account, client);
    const before = randomBytes(3000);
    await platform.blobStore.put('media-before-rotation', Readable.from([before]));
    const oldKeyFile = await readFile(join(dataDir, 'master.key'), 'utf8');

    const rotated = await cli('keys', 'rotate', '--generate');
    expect(rotated, rotated.output).toMatchObject({ code: 0 });
    expect(rotated.output).toMatch(/generated a new master key mk-[0-9a-f]{16}/);
    expect(rotated.output).toMatch(/blobs: 1 re-wrapped/);
    expect(rotated.output).toMatch(/totp-secrets: 1 re-wrapped/);
    expect(rotated.output).toMatch(/backups made before this rotation can only be restored with the old key/);
    expect(await readFile(join(dataDir, 'master.key'), 'utf8')).not.toBe(oldKeyFile);
    expect(await readFile(join(dataDir, 'master.key.previous'), 'utf8')).toBe(oldKeyFile);

    // Still serving on the swapped keys: sign-in with the re-wrapped TOTP secret, old and new blobs.
    const again = account.client();
    expect((await again.login(user.email)).json()).toMatchObject({ secondFactorRequired: true });
    const second = await again.post('/api/v1/auth/login/2fa', {
      code: await totpCode(secret, account.clock),
    });
    expect(second.statusCode, second.body).toBe(200);
    expect((await collect(await platform.blobStore.read('media-before-rotation'))).equals(before)).toBe(true);
    await platform.blobStore.put('media-after-rotation', Readable.from([randomBytes(10)]));

    const status = await cli('keys', 'status');
    expect(status.code).toBe(0);
    expect(status.output).toMatch(/\(current\): 3 \(blobs 2, totp-secrets 1\)/);
    expect(status.output).toMatch(/`guardian keys retire` can run/);

    const retired = await cli('keys', 'retire');
    expect(retired, retired.output).toMatchObject({ code: 0 });
    expect(retired.output).toMatch(/master\.key\.previous was deleted/);
    expect(retired.output).toMatch(/need the old key to restore/);
    expect(await pathExists(join(dataDir, 'master.key.previous'))).toBe(false);
    expect((await collect(await platform.blobStore.read('media-before-rotation'))).equals(before)).toBe(true);

    const audited = await platform.database.db
      .withTables<AuditTables>()
      .selectFrom('audit_events')
      .select(['action', 'outcome', 'actor_type'])
      .where('action', 'like', 'keys.%')
      .orderBy('seq')
      .execute();
    expect(audited).toEqual([
      { action: 'keys.rotate.start', outcome: 'success', actor_type: 'system' },
      { action: 'keys.rotate.finish', outcome: 'success', actor_type: 'system' },
      { action: 'keys.retire', outcome: 'success', actor_type: 'system' },
    ]);
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.output).toBe(0);
  });

  it('refuses --generate while a rotation is unfinished, and usage errors exit 2', async () => {
    expect((await cli('keys', 'spin')).code).toBe(2);
    await account.platform.database.db
      .insertInto('key_rotations')
      .values({
        id: '00000000-0000-4000-8000-000000000001',
        to_kek_id: 'mk-0000000000000000',
        to_kek_version: 1,
        from_kek_ids: '',
        status: 'running',
        phase: null,
        objects_done: 0,
        objects_skipped: 0,
        last_key: null,
        last_error: null,
        owner: null,
        lease_until: null,
        started_at: new Date(),
        updated_at: new Date(),
        finished_at: null,
      })
      .execute();
    const refused = await cli('keys', 'rotate', '--generate');
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/rotation-unfinished/);
  });
});
