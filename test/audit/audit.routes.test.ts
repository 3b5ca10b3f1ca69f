import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyRole } from '../../src/db/schema.js';
import { buildApp } from '../../src/http/build-app.js';
import { createApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createApiKeyService } from '../../src/services/api-key.service.js';
import { createAuditLogService, type AuditLogService } from '../../src/services/audit-log.service.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';

interface EventView {
  id: string;
  at: string;
  action: string;
  actor: { type: string; id: string | null };
  details: Record<string, unknown>;
  hash: string;
}

interface PageView {
  events: EventView[];
  nextCursor: string | null;
}

const unreachable = () => {
  throw new Error('not used by the audit routes');
};

describeEachImplementation('GET /api/v1/audit-events', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let auditLog: AuditLogService;
  const keys: Record<string, string> = {};
  const orgIds: Record<string, string> = {};
  const eventsPerOrg = 23;

  beforeAll(async () => {
    database = await implementation.open();
    const organisations = createOrganisationRepository({ db: database.db });
    const apiKeyService = createApiKeyService({
      apiKeys: createApiKeyRepository({ db: database.db }),
      organisations,
      now: () => new Date(),
    });
    auditLog = createAuditLogService({ audit: createAuditRepository({ db: database.db }) });
    for (const org of ['first', 'second']) {
      const name = `${org}-${randomUUID()}`;
      orgIds[org] = (await organisations.create(name)).id;
      for (const role of ['admin', 'auditor', 'analyst', 'viewer'] satisfies ApiKeyRole[]) {
        keys[`${org}:${role}`] = (await apiKeyService.create({ orgName: name, name: role, role })).key;
      }
    }
    // Interleaved, so an organisation's page is never a contiguous stretch of the chain.
    for (let index = 0; index < eventsPerOrg; index += 1) {
      for (const org of ['first', 'second']) {
        await auditLog.append({
          orgId: orgIds[org] ?? null,
          actor: { type: 'user', id: randomUUID() },
          action: 'auth.login',
          outcome: 'success',
          ip: '192.0.2.1',
          userAgent: 'test',
          details: { org, index },
        });
      }
    }
    const inert = new Proxy({}, { get: () => unreachable }) as never;
    // One service both authenticates keys and backs the admin key routes.
    const apiKeyDeps = { authenticator: apiKeyService, apiKeys: apiKeyService };
    app = await buildApp({
      ...apiKeyDeps,
      log: testLogger(),
      mediaService: inert,
      storedMedia: inert,
      analysisService: inert,
      analysisArtifacts: inert,
      analyses: inert,
      audit: auditLog,
      events: inert,
      healthChecks: [],
      uploads: { handler: inert },
      maxUploadBytes: 1,
      trustedProxies: [],
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
  });

  const get = (url: string, key?: string) =>
    app.inject({ url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  async function pageThrough(key: string, limit: number): Promise<EventView[]> {
    const seen: EventView[] = [];
    let url = `/api/v1/audit-events?limit=${limit}`;
    for (let pages = 0; pages < 100; pages += 1) {
      const response = await get(url, key);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json<PageView>();
      expect(page.events.length).toBeLessThanOrEqual(limit);
      seen.push(...page.events);
      if (!page.nextCursor) return seen;
      url = `/api/v1/audit-events?limit=${limit}&before=${page.nextCursor}`;
    }
    throw new Error('paging did not end');
  }

  it.each(['admin', 'auditor'])(
    'an %s pages through every event of their organisation once, newest first',
    async (role) => {
      const events = await pageThrough(keys[`first:${role}`] ?? '', 5);
      expect(events).toHaveLength(eventsPerOrg);
      expect(new Set(events.map((event) => event.id)).size).toBe(eventsPerOrg);
      expect(events.map((event) => event.details.index)).toEqual(
        Array.from({ length: eventsPerOrg }, (_, index) => eventsPerOrg - 1 - index),
      );
      expect(events.every((event) => event.details.org === 'first')).toBe(true);
      expect(events[0]).toMatchObject({
        action: 'auth.login',
        actor: { type: 'user' },
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    },
  );

  it("never shows another organisation's events, and refuses its event as a cursor", async () => {
    const second = await pageThrough(keys['second:auditor'] ?? '', 200);
    expect(second).toHaveLength(eventsPerOrg);
    expect(second.every((event) => event.details.org === 'second')).toBe(true);
    const response = await get(`/api/v1/audit-events?before=${second[0]?.id}`, keys['first:admin']);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid-cursor' });
  });

  it.each(['analyst', 'viewer'])('an %s gets 403', async (role) => {
    const response = await get('/api/v1/audit-events', keys[`first:${role}`]);
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('without credentials: 401', async () => {
    expect((await get('/api/v1/audit-events')).statusCode).toBe(401);
  });

  it.each([
    'limit=0',
    'limit=201',
    'limit=1.5',
    'limit=abc',
    'limit=1&limit=2',
    'before=42',
    'before=not-a-cursor',
    'orgId=00000000-0000-4000-8000-000000000000',
    '__proto__=x',
  ])('rejects the query %s with 400', async (query) => {
    const response = await get(`/api/v1/audit-events?${query}`, keys['first:admin']);
    expect(response.statusCode, response.body).toBe(400);
  });

  it('defaults to 50 per page and allows 200', async () => {
    const response = await get('/api/v1/audit-events?limit=200', keys['first:admin']);
    expect(response.json<PageView>()).toMatchObject({ nextCursor: null });
    const first = await get('/api/v1/audit-events', keys['first:admin']);
    expect(first.json<PageView>().events).toHaveLength(eventsPerOrg);
    expect(first.headers['cache-control']).toBe('no-store');
  });

  describe('GET /api/v1/audit-events/verification', () => {
    const verification = '/api/v1/audit-events/verification';

    /** As someone with full database access would: the application cannot change the log itself. */
    async function withTamperedEntry(seq: number, check: () => Promise<void>) {
      await sql`alter table audit_events disable trigger user`.execute(database.db);
      try {
        await sql`update audit_events set action = 'auth.logout' where seq = ${seq}`.execute(database.db);
        await check();
      } finally {
        await sql`update audit_events set action = 'auth.login' where seq = ${seq}`.execute(database.db);
        await sql`alter table audit_events enable trigger user`.execute(database.db);
      }
    }

    it.each(['admin', 'auditor'])('tells an %s that the chain is intact, checked just now', async (role) => {
      const before = Date.now();
      const response = await get(verification, keys[`first:${role}`]);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json<{ intact: boolean; checkedAt: string }>();
      expect(body).toEqual({
        intact: true,
        checkedAt: expect.any(String),
        firstBadEntry: null,
        reason: null,
      });
      expect(Date.parse(body.checkedAt)).toBeGreaterThanOrEqual(before - 1000);
    });

    it('names the first altered entry, and is intact again once it is restored', async () => {
      await withTamperedEntry(5, async () => {
        const response = await get(verification, keys['first:admin']);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json()).toMatchObject({
          intact: false,
          firstBadEntry: 5,
          reason: 'entry 5 was altered: its contents do not match its hash',
        });
      });
      expect((await get(verification, keys['first:admin'])).json()).toMatchObject({ intact: true });
    });

    it.each(['analyst', 'viewer'])('an %s gets 403', async (role) => {
      const response = await get(verification, keys[`first:${role}`]);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'forbidden' });
    });

    it('without credentials: 401', async () => {
      expect((await get(verification)).statusCode).toBe(401);
    });

    it('limits how often one caller recomputes the chain', async () => {
      const statuses: number[] = [];
      for (let index = 0; index < 7; index += 1)
        statuses.push((await get(verification, keys['second:admin'])).statusCode);
      expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(statuses[6]).toBe(429);
    });
  });
});
