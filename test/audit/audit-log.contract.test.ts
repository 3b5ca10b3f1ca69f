import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditTables } from '../../src/db/audit-schema.js';
import { openDatabase } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { auditEntryHash } from '../../src/services/audit-chain.js';
import type { AuditEvent } from '../../src/services/audit-log.js';
import { createAuditLogService, type AuditLogService } from '../../src/services/audit-log.service.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';

const rollback = new Error('rollback');

function auditLogOn(db: Kysely<Database>): AuditLogService {
  return createAuditLogService({ audit: createAuditRepository({ db }) });
}

function loginEvent(orgId: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    orgId,
    actor: { type: 'user', id: randomUUID() },
    action: 'auth.login',
    outcome: 'success',
    target: { type: 'user', id: randomUUID() },
    ip: '198.51.100.7',
    userAgent: 'Mozilla/5.0 (test)',
    details: { method: 'password', attempt: 1, remembered: false },
    ...overrides,
  };
}

/**
 * Runs `work` as someone with full access to the database would (triggers disabled), verifies inside the
 * same transaction, and rolls everything back so the next case starts from an intact chain.
 */
async function tamperAndVerify(database: TestDatabase, ...statements: string[]) {
  let verification: Awaited<ReturnType<AuditLogService['verify']>> | undefined;
  await database.db
    .transaction()
    .execute(async (trx) => {
      await sql`alter table audit_events disable trigger user`.execute(trx);
      for (const statement of statements) await sql.raw(statement).execute(trx);
      verification = await auditLogOn(trx).verify();
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
  return verification;
}

describeEachImplementation('audit log', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let auditLog: AuditLogService;
  let audit: Kysely<Database & AuditTables>;
  const orgA = randomUUID();
  const orgB = randomUUID();

  const allRows = () => audit.selectFrom('audit_events').selectAll().orderBy('seq').execute();

  beforeAll(async () => {
    database = await implementation.open();
    audit = database.db.withTables<AuditTables>();
    auditLog = auditLogOn(database.db);
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('an empty log verifies', async () => {
    expect(await auditLog.verify()).toEqual({ ok: true, count: 0, head: null });
  });

  it('chains N appends from the genesis hash and verifies them', async () => {
    for (let index = 0; index < 6; index += 1) {
      await auditLog.append(loginEvent(index % 2 === 0 ? orgA : orgB, { details: { attempt: index } }));
    }
    const rows = await allRows();
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[0]?.prev_hash).toBe('0'.repeat(64));
    for (let index = 1; index < rows.length; index += 1) {
      expect(rows[index]?.prev_hash).toBe(rows[index - 1]?.hash);
    }
    expect(await auditLog.verify()).toEqual({ ok: true, count: 6, head: { seq: 6, hash: rows[5]?.hash } });
  });

  it('stores who, what, when (UTC, milliseconds) and where', async () => {
    const before = Date.now();
    const event = loginEvent(orgA, { action: 'auth.login.fail', outcome: 'failure' });
    await auditLog.append(event);
    const [row] = await audit
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    expect(row).toMatchObject({
      org_id: orgA,
      actor_type: 'user',
      actor_id: event.actor.id,
      action: 'auth.login.fail',
      outcome: 'failure',
      target_type: 'user',
      target_id: event.target?.id,
      ip: '198.51.100.7',
      user_agent: 'Mozilla/5.0 (test)',
      details: { method: 'password', attempt: 1, remembered: false },
    });
    expect(row?.at.getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(row?.at.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('keeps events with no organisation, target, address or details, and redacts secrets before storing', async () => {
    await auditLog.append({
      orgId: null,
      actor: { type: 'anonymous', id: null },
      action: 'auth.login',
      outcome: 'failure',
    });
    await auditLog.append({
      orgId: orgA.toUpperCase(),
      actor: { type: 'cli', id: null },
      action: 'user.password.reset',
      outcome: 'success',
      details: { password: 'canary-hunter2', email: 'a@example.org' },
    });
    const rows = await audit.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(2).execute();
    expect(rows[1]).toMatchObject({ org_id: null, actor_id: null, target_type: null, ip: null, details: {} });
    expect(rows[0]).toMatchObject({
      org_id: orgA,
      details: { password: '[redacted]', email: 'a@example.org' },
    });
    expect(JSON.stringify(await allRows())).not.toContain('canary-hunter2');
    expect(await auditLog.verify()).toMatchObject({ ok: true, count: 9 });
  });

  it('refuses a malformed action or organisation id (programming errors) without appending', async () => {
    await expect(auditLog.append(loginEvent(orgA, { action: 'Login OK' }))).rejects.toThrow(
      /invalid audit action/,
    );
    await expect(auditLog.append(loginEvent('not-a-uuid'))).rejects.toThrow(/uuid/);
    expect(await auditLog.verify()).toMatchObject({ ok: true, count: 9 });
  });

  describe('tampering by someone with full database access is detected', () => {
    const tampers: [string, string][] = [
      ['seq', 'seq = seq + 1000'],
      ['id', 'id = gen_random_uuid()'],
      ['at (seconds)', "at = at + interval '1 second'"],
      ['at (microseconds)', "at = at + interval '1 microsecond'"],
      ['org_id', 'org_id = case when org_id is null then gen_random_uuid() else null end'],
      [
        'actor_type',
        "actor_type = case actor_type when 'user' then 'api-key' when 'api-key' then 'user' when 'cli' then 'anonymous' else 'cli' end",
      ],
      ['actor_id', "actor_id = case when actor_id is null then null else actor_id || 'x' end"],
      ['action', "action = action || 'x'"],
      ['outcome', "outcome = case outcome when 'success' then 'failure' else 'success' end"],
      [
        'target',
        "target_type = coalesce(target_type || 'x', 'media'), target_id = coalesce(target_id || 'x', 'm')",
      ],
      ['ip', "ip = case when ip = '203.0.113.9' then null else '203.0.113.9' end"],
      ['user_agent', "user_agent = coalesce(user_agent || ' ', 'curl')"],
      ['details (added key)', `details = details || '{"extra": 1}'::jsonb`],
      ['details (changed value)', `details = jsonb_set(details, '{attempt}', '99'::jsonb)`],
      ['prev_hash', "prev_hash = repeat('a', 64)"],
      ['hash', "hash = repeat('b', 64)"],
    ];

    it.each(tampers)('an edited %s, in any row, names that row', async (field, assignment) => {
      const rows = await allRows();
      expect(rows.length).toBeGreaterThan(3);
      for (const row of rows) {
        const verification = await tamperAndVerify(
          database,
          `update audit_events set ${assignment} where seq = ${row.seq}`,
        );
        // An actor_id edit is impossible on rows without one; every other edit must be caught.
        if (field === 'actor_id' && row.actor_id === null) continue;
        expect(verification, `${field} of entry ${row.seq}`).toMatchObject({
          ok: false,
          firstBadSeq: row.seq,
        });
      }
      expect(await auditLog.verify()).toMatchObject({ ok: true });
    });

    it('a removed entry, first, middle or last-but-one, names the missing seq', async () => {
      const count = (await allRows()).length;
      for (const seq of [1, 4, count - 1]) {
        const verification = await tamperAndVerify(database, `delete from audit_events where seq = ${seq}`);
        expect(verification).toMatchObject({
          ok: false,
          firstBadSeq: seq,
          reason: expect.stringMatching(/missing/),
        });
      }
    });

    it('swapped entries and an entry inserted in the middle are caught', async () => {
      const swapped = await tamperAndVerify(
        database,
        'update audit_events set seq = seq + 100000 where seq in (3, 4)',
        'update audit_events set seq = case seq when 100003 then 4 else 3 end where seq > 100000',
      );
      expect(swapped).toMatchObject({ ok: false, firstBadSeq: 3 });
      const inserted = await tamperAndVerify(
        database,
        'alter table audit_events drop constraint audit_events_prev_hash_key',
        'update audit_events set seq = seq + 100000 where seq >= 5',
        'update audit_events set seq = seq - 99999 where seq > 100000',
        `insert into audit_events (seq, id, at, org_id, actor_type, actor_id, action, outcome, details, prev_hash, hash)
         select 5, gen_random_uuid(), at, org_id, 'cli', null, 'forged', 'success', '{}', hash, repeat('c', 64)
         from audit_events where seq = 4`,
      );
      expect(inserted).toMatchObject({ ok: false, firstBadSeq: 5 });
    });

    it("an edit that recomputes the entry's own hash still breaks the link from the next entry", async () => {
      const [, second] = await allRows();
      if (!second) throw new Error('no second entry');
      const rehashed = auditEntryHash({
        seq: second.seq,
        id: second.id,
        at: second.at,
        orgId: second.org_id,
        actorType: second.actor_type,
        actorId: second.actor_id,
        action: 'auth.logout',
        outcome: second.outcome,
        targetType: second.target_type,
        targetId: second.target_id,
        ip: second.ip,
        userAgent: second.user_agent,
        details: second.details,
        prevHash: second.prev_hash,
      });
      const verification = await tamperAndVerify(
        database,
        `update audit_events set action = 'auth.logout', hash = '${rehashed}' where seq = 2`,
      );
      expect(verification).toMatchObject({
        ok: false,
        firstBadSeq: 3,
        reason: expect.stringMatching(/does not follow entry 2/),
      });
    });
  });

  describe('append-only in the database', () => {
    it.each([
      ['UPDATE', "update audit_events set action = 'auth.logout'"],
      ['DELETE', 'delete from audit_events where seq = 1'],
      ['TRUNCATE', 'truncate audit_events'],
    ])('the application connection cannot %s', async (operation, statement) => {
      await expect(sql.raw(statement).execute(database.db)).rejects.toThrow(
        new RegExp(`append-only: ${operation} refused`),
      );
      expect(await auditLog.verify()).toMatchObject({ ok: true, count: 9 });
    });

    it('refuses an entry that does not extend the chain (fork, gap, wrong genesis)', async () => {
      const rows = await allRows();
      const forged = (seq: number, prevHash: string) =>
        sql`insert into audit_events (seq, id, at, org_id, actor_type, actor_id, action, outcome, details, prev_hash, hash)
            values (${seq}, ${randomUUID()}, now(), null, 'cli', null, 'forged', 'success', '{}', ${prevHash}, ${randomBytes(32).toString('hex')})`.execute(
          database.db,
        );
      await expect(forged(rows.length + 2, rows.at(-1)?.hash ?? '')).rejects.toThrow(
        /does not extend the chain/,
      );
      await expect(forged(rows.length + 1, rows[0]?.hash ?? '')).rejects.toThrow(
        /does not extend the chain|unique/,
      );
      await expect(forged(3, rows[1]?.hash ?? '')).rejects.toThrow(/unique|duplicate/);
      expect(await auditLog.verify()).toMatchObject({ ok: true, count: rows.length });
    });
  });

  describe('concurrent appends', () => {
    it('50 appends in parallel form one unbroken chain', async () => {
      const before = (await allRows()).length;
      await Promise.all(
        Array.from({ length: 50 }, (_, index) => auditLog.append(loginEvent(orgB, { details: { index } }))),
      );
      const rows = await allRows();
      expect(rows.map((row) => row.seq)).toEqual(
        Array.from({ length: before + 50 }, (_, index) => index + 1),
      );
      expect(await auditLog.verify()).toEqual({ ok: true, count: before + 50, head: expect.any(Object) });
    });

    it.skipIf(implementation.name !== 'postgres')(
      'appends from two separate connection pools (two processes) never fork the chain',
      async () => {
        const second = await database.reopen();
        try {
          const other = auditLogOn(second.db);
          const before = (await allRows()).length;
          await Promise.all(
            Array.from({ length: 60 }, (_, index) =>
              (index % 2 === 0 ? auditLog : other).append(loginEvent(orgA, { details: { index } })),
            ),
          );
          expect(await other.verify()).toMatchObject({ ok: true, count: before + 60 });
        } finally {
          await second.close();
        }
      },
    );

    it('an append inside a caller transaction commits or rolls back with it', async () => {
      const before = (await allRows()).length;
      await database.db
        .transaction()
        .execute(async (trx) => {
          await auditLog.append(loginEvent(orgA, { action: 'user.role.change' }), trx);
          throw rollback;
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
        });
      expect(await allRows()).toHaveLength(before);
      await database.db.transaction().execute((trx) => auditLog.append(loginEvent(orgA), trx));
      expect(await auditLog.verify()).toMatchObject({ ok: true, count: before + 1 });
    });
  });

  describe('paging an organisation', () => {
    it('pages newest first with a cursor, each event once, only the organisation asked for', async () => {
      const expected = (await allRows())
        .filter((row) => row.org_id === orgA)
        .map((row) => row.id)
        .reverse();
      const seen: string[] = [];
      let before: string | undefined;
      for (let pages = 0; pages < 100; pages += 1) {
        const page = await auditLog.list({ orgId: orgA, limit: 7, ...(before ? { before } : {}) });
        expect(page.events.length).toBeLessThanOrEqual(7);
        expect(page.events.every((event) => event.orgId === orgA)).toBe(true);
        seen.push(...page.events.map((event) => event.id));
        if (!page.nextCursor) break;
        before = page.nextCursor;
      }
      expect(seen).toEqual(expected);
    });

    it('refuses a page holding an entry that no longer matches its hash (500 audit-integrity), never serving it', async () => {
      const [newest] = (await auditLog.list({ orgId: orgA, limit: 1 })).events;
      let refusal: unknown;
      await database.db
        .transaction()
        .execute(async (trx) => {
          await sql`alter table audit_events disable trigger user`.execute(trx);
          await sql`update audit_events set ip = '192.0.2.66' where id = ${newest!.id}`.execute(trx);
          refusal = await auditLogOn(trx)
            .list({ orgId: orgA, limit: 5 })
            .then(
              () => null,
              (error: unknown) => error,
            );
          throw rollback;
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
        });
      expect(refusal).toMatchObject({ status: 500, code: 'audit-integrity' });
      expect((refusal as Error).message).toContain(newest!.id);
      expect((await auditLog.list({ orgId: orgA, limit: 5 })).events[0]?.id).toBe(newest!.id);
    });

    it("refuses another organisation's event as a cursor", async () => {
      const [other] = await auditLog.list({ orgId: orgB, limit: 1 }).then((page) => page.events);
      await expect(auditLog.list({ orgId: orgA, limit: 5, before: other?.id ?? '' })).rejects.toMatchObject({
        status: 400,
        code: 'invalid-cursor',
      });
    });
  });

  it('a committed removal is reported until the entry is put back', async () => {
    const removed = await audit
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    await sql`alter table audit_events disable trigger user`.execute(database.db);
    try {
      await sql`delete from audit_events where seq = 2`.execute(database.db);
      expect(await auditLog.verify()).toEqual({
        ok: false,
        firstBadSeq: 2,
        reason: 'entry 2 is missing (removed); the next entry is 3',
      });
      await audit
        .insertInto('audit_events')
        .values({ ...removed, details: JSON.stringify(removed.details) })
        .execute();
    } finally {
      await sql`alter table audit_events enable trigger user`.execute(database.db);
    }
    expect(await auditLog.verify()).toMatchObject({ ok: true });
  });

  it.skipIf(implementation.name !== 'postgres')(
    'with the documented grants, the application role cannot update, delete, truncate or disable the trigger',
    async () => {
      const role = `guardian_app_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      const url = new URL(database.settings.databaseUrl ?? '');
      await sql.raw(`create role ${role} login password '${password}'`).execute(database.db);
      try {
        // docs/audit-log.md, "Hardening on PostgreSQL".
        await sql
          .raw(
            `grant usage on schema public to ${role};
             grant select, insert, update, delete on all tables in schema public to ${role};
             revoke update, delete, truncate on audit_events from ${role};`,
          )
          .execute(database.db);
        url.username = role;
        url.password = password;
        const app = await openDatabase({
          databaseUrl: url.toString(),
          dataDir: '/nonexistent',
          poolMax: 2,
          log: testLogger(),
        });
        try {
          const appLog = auditLogOn(app.db);
          await appLog.append(loginEvent(orgA));
          for (const statement of [
            "update audit_events set action = 'x'",
            'delete from audit_events',
            'truncate audit_events',
            'alter table audit_events disable trigger user',
          ]) {
            await expect(sql.raw(statement).execute(app.db), statement).rejects.toThrow(
              /permission denied|must be owner/,
            );
          }
          expect(await appLog.verify()).toMatchObject({ ok: true });
        } finally {
          await app.close();
        }
      } finally {
        const admin = new pg.Client({ connectionString: database.settings.databaseUrl });
        await admin.connect();
        await admin.query(`drop owned by ${role}`);
        await admin.query(`drop role ${role}`);
        await admin.end();
      }
    },
  );
});
