import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditTables } from '../../src/db/audit-schema.js';
import { openDatabase } from '../../src/db/database.js';
import { runGuardian, startGuardian } from '../helpers/guardian-process.js';
import { testLogger } from '../helpers/databases.js';

// Each step spawns `guardian` under tsx, which takes seconds on a loaded machine: hence the long timeouts.
describe('guardian audit verify (embedded PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-audit-cli-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0', LOG_LEVEL: 'warn' };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const guardian = async (args: string[]) => runGuardian(args, env);

  it('reports an intact log, straight on the database and through a running server', async () => {
    expect((await guardian(['org', 'create', 'acme'])).code).toBe(0);
    const created = await guardian([
      'apikey',
      'create',
      '--org',
      'acme',
      '--name',
      'ci',
      '--role',
      'auditor',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const one = await guardian(['audit', 'verify']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^audit log intact: 1 events\nhead: entry 1 sha256 [0-9a-f]{64}\n$/);

    const server = await startGuardian('serve', { ...env, LOG_LEVEL: 'info' }, 180_000);
    try {
      // PGlite admits one process: these go through the server's admin socket.
      const viaServer = await guardian(['apikey', 'create', '--org', 'acme', '--name', 'second']);
      expect(viaServer.code, viaServer.stderr).toBe(0);
      const two = await guardian(['audit', 'verify']);
      expect(two.code, two.stderr).toBe(0);
      expect(two.stdout).toContain('audit log intact: 2 events');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 300_000);

  it('records the key creation as a CLI action without the key itself', async () => {
    const database = await openDatabase({ dataDir: env.DATA_DIR, poolMax: 1, log: testLogger() });
    try {
      const rows = await database.db
        .withTables<AuditTables>()
        .selectFrom('audit_events')
        .selectAll()
        .orderBy('seq')
        .execute();
      expect(rows.map((row) => [row.action, row.actor_type, row.actor_id, row.target_type])).toEqual([
        ['apikey.create', 'cli', null, 'api-key'],
        ['apikey.create', 'cli', null, 'api-key'],
      ]);
      expect(rows[0]?.details).toMatchObject({ name: 'ci', role: 'auditor', expiresAt: null });
      expect(JSON.stringify(rows)).not.toMatch(/sag_/);
    } finally {
      await database.close();
    }
  }, 60_000);

  it('exits 1 naming the first bad entry once someone with database access edits it', async () => {
    const database = await openDatabase({ dataDir: env.DATA_DIR, poolMax: 1, log: testLogger() });
    try {
      await sql`alter table audit_events disable trigger user`.execute(database.db);
      await sql`update audit_events set details = '{"name": "innocent", "role": "viewer"}' where seq = 1`.execute(
        database.db,
      );
      await sql`alter table audit_events enable trigger user`.execute(database.db);
    } finally {
      await database.close();
    }
    const result = await guardian(['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('intact');
    expect(result.stderr).toMatch(/FAILED at entry 1: entry 1 was altered/);
  }, 120_000);

  it('answers usage errors with exit 2', async () => {
    const result = await guardian(['audit', 'check']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: guardian audit verify');
  }, 60_000);
});
