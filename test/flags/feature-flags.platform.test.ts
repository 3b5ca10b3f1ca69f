import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startAdminSocket } from '../../src/app/admin-socket.js';
import { main } from '../../src/cli/main.js';
import type { AuditTables } from '../../src/db/audit-schema.js';
import { openAccountApp, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';

// The embedded default: one server holding DATA_DIR, the CLI reaching it through its admin socket.
const embedded = databaseImplementations().filter((implementation) => implementation.name === 'pglite');
const operatorOrgId = randomUUID();
const gateKey = 'detector.c2pa-provenance';

describeEachImplementation('feature flags on a running platform', embedded, (implementation) => {
  let account: AccountApp;
  let socket: { close(): Promise<void> };
  const savedEnv = { ...process.env };
  const keys: Record<'operatorAdmin' | 'operatorAnalyst' | 'tenantAdmin', string> = {
    operatorAdmin: '',
    operatorAnalyst: '',
    tenantAdmin: '',
  };
  let tenant: { id: string; name: string };

  beforeAll(async () => {
    account = await openAccountApp(implementation, { FEATURE_FLAG_ADMIN_ORGS: operatorOrgId });
    const { platform } = account;
    await platform.database.db
      .insertInto('organisations')
      .values({ id: operatorOrgId, name: 'Operator' })
      .execute();
    tenant = await account.createOrg('Tenant');
    const apiKeys = platform.services.apiKeyService;
    keys.operatorAdmin = (await apiKeys.create({ orgName: 'Operator', name: 'ops', role: 'admin' })).key;
    keys.operatorAnalyst = (await apiKeys.create({ orgName: 'Operator', name: 'an', role: 'analyst' })).key;
    keys.tenantAdmin = (await apiKeys.create({ orgName: tenant.name, name: 'ta', role: 'admin' })).key;
    socket = await startAdminSocket({
      dataDir: platform.config.DATA_DIR,
      commands: platform.managementCommands,
      log: testLogger(),
    });
    for (const name of ['DATABASE_URL', 'MASTER_KEY', 'MASTER_KEY_FILE']) delete process.env[name];
    Object.assign(process.env, { DATA_DIR: platform.config.DATA_DIR, LOG_LEVEL: 'silent' });
  });

  afterAll(async () => {
    process.env = savedEnv;
    await socket?.close();
    await account?.close();
  });

  function api(
    key: string,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
  ) {
    return account.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    });
  }

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

  const c2paRuns = async (orgId: string) => {
    const [decision] = await account.platform.featureFlags.detectorFlags.decide(orgId);
    return decision!;
  };

  it('lets only admins of FEATURE_FLAG_ADMIN_ORGS manage flags', async () => {
    const anonymous = await account.app.inject({ method: 'GET', url: '/api/v1/feature-flags' });
    expect(anonymous.statusCode).toBe(401);
    const analyst = await api(keys.operatorAnalyst, 'GET', '/api/v1/feature-flags');
    expect(analyst.statusCode).toBe(403);
    expect(analyst.headers['content-type']).toMatch(/application\/problem\+json/);
    // Another organisation's admin: the flags are the operator's, so 404 as for another organisation's resource.
    const tenantAdmin = await api(keys.tenantAdmin, 'POST', '/api/v1/feature-flags', {
      key: 'sneaky',
      type: 'boolean',
      variants: [{ name: 'on', value: true }],
      defaultVariant: 'on',
    });
    expect(tenantAdmin.statusCode).toBe(404);
    expect(tenantAdmin.json()).toMatchObject({ code: 'flag-admin-not-allowed' });
    expect((await api(keys.tenantAdmin, 'GET', '/api/v1/feature-flags')).statusCode).toBe(404);
    expect(await account.platform.services.featureFlagService.list()).toEqual([]);
    expect((await api(keys.operatorAdmin, 'GET', '/api/v1/feature-flags')).json()).toEqual({ flags: [] });
  });

  it('creates, overrides, rolls out and deletes through the API, each change audited, each taking effect at once', async () => {
    // No flag: the gated detector runs as it always did.
    expect(await c2paRuns(tenant.id)).toMatchObject({ enabled: true, errorCode: 'FLAG_NOT_FOUND' });
    const created = await api(keys.operatorAdmin, 'POST', '/api/v1/feature-flags', {
      key: gateKey,
      type: 'boolean',
      description: 'C2PA provenance check',
      variants: [
        { name: 'on', value: true },
        { name: 'off', value: false },
      ],
      defaultVariant: 'on',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(await c2paRuns(tenant.id)).toMatchObject({ enabled: true, reason: 'STATIC' });

    const override = await api(
      keys.operatorAdmin,
      'PUT',
      `/api/v1/feature-flags/${gateKey}/overrides/${tenant.id}`,
      {
        variant: 'off',
      },
    );
    expect(override.statusCode, override.body).toBe(200);
    expect(await c2paRuns(tenant.id)).toMatchObject({ enabled: false, reason: 'TARGETING_MATCH' });
    expect(await c2paRuns(operatorOrgId)).toMatchObject({ enabled: true, reason: 'DEFAULT' });

    const rollout = await api(keys.operatorAdmin, 'PUT', `/api/v1/feature-flags/${gateKey}/rollout`, {
      rollout: [
        { variant: 'on', weight: 0 },
        { variant: 'off', weight: 100 },
      ],
    });
    expect(rollout.statusCode, rollout.body).toBe(200);
    expect(await c2paRuns(operatorOrgId)).toMatchObject({ enabled: false, reason: 'SPLIT' });

    const disabled = await api(keys.operatorAdmin, 'PATCH', `/api/v1/feature-flags/${gateKey}`, {
      enabled: false,
    });
    expect(disabled.json()).toMatchObject({ enabled: false });
    expect(await c2paRuns(tenant.id)).toMatchObject({ enabled: true, reason: 'DISABLED' });

    const removed = await api(keys.operatorAdmin, 'DELETE', `/api/v1/feature-flags/${gateKey}`);
    expect(removed.statusCode).toBe(204);
    expect(await c2paRuns(tenant.id)).toMatchObject({ enabled: true, errorCode: 'FLAG_NOT_FOUND' });

    const events = (await account.platform.auditLog.list({ orgId: operatorOrgId, limit: 50 })).events;
    const flagEvents = events.filter((event) => event.action.startsWith('flag.')).reverse();
    expect(flagEvents.map((event) => event.action)).toEqual([
      'flag.created',
      'flag.override.set',
      'flag.updated',
      'flag.updated',
      'flag.deleted',
    ]);
    expect(flagEvents[0]).toMatchObject({
      actor: { type: 'api-key' },
      target: { type: 'feature-flag', id: gateKey },
      details: { flag: gateKey, before: 'none' },
    });
    expect(flagEvents[2]?.details.after).toContain('rollout=on:0,off:100');
    expect(flagEvents[3]?.details.before).toContain('enabled=true');
    expect(flagEvents[3]?.details.after).toContain('enabled=false');
    expect(flagEvents[1]?.details).toMatchObject({ targetOrgId: tenant.id, variant: 'off' });
  });

  it('answers bad definitions with stable problem codes', async () => {
    const post = (body: object) => api(keys.operatorAdmin, 'POST', '/api/v1/feature-flags', body);
    const base = {
      key: 'checks',
      type: 'boolean',
      variants: [
        { name: 'on', value: true },
        { name: 'off', value: false },
      ],
      defaultVariant: 'off',
    };
    const cases: [object, number, string][] = [
      [{ ...base, variants: [{ name: 'on', value: 'yes' }] }, 400, 'invalid-flag'],
      [
        {
          ...base,
          variants: [
            { name: 'on', value: true },
            { name: 'on', value: false },
          ],
        },
        400,
        'validation-failed',
      ],
      [{ ...base, defaultVariant: 'maybe' }, 400, 'invalid-flag'],
      [{ ...base, rollout: [{ variant: 'nope', weight: 5 }] }, 400, 'invalid-flag-rollout'],
      [{ ...base, rollout: [{ variant: 'on', weight: 0 }] }, 400, 'invalid-flag-rollout'],
      [{ ...base, key: 'Not A Key' }, 400, 'validation-failed'],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json().code, response.body).toBe(code);
      expect(response.body).not.toMatch(/\n\s+at /);
    }
    expect((await post(base)).statusCode).toBe(201);
    expect((await post(base)).json()).toMatchObject({ code: 'flag-exists', status: 409 });
    const missing = await api(keys.operatorAdmin, 'GET', '/api/v1/feature-flags/no-such-flag');
    expect(missing.json()).toMatchObject({ code: 'flag-not-found', status: 404 });
    const pinned = await api(
      keys.operatorAdmin,
      'PUT',
      `/api/v1/feature-flags/checks/overrides/${tenant.id}`,
      {
        variant: 'on',
      },
    );
    expect(pinned.statusCode).toBe(200);
    const orphaning = await api(keys.operatorAdmin, 'PATCH', '/api/v1/feature-flags/checks', {
      variants: [{ name: 'off', value: false }],
    });
    expect(orphaning.json()).toMatchObject({ code: 'flag-variant-in-use', status: 409 });
    const unknownOrg = await api(
      keys.operatorAdmin,
      'PUT',
      `/api/v1/feature-flags/checks/overrides/${randomUUID()}`,
      {
        variant: 'on',
      },
    );
    expect(unknownOrg.json()).toMatchObject({ code: 'organisation-not-found', status: 404 });
  });

  it('guardian flags set, override, rollout, disable and delete reach the running server at once, audited as the CLI', async () => {
    const set = await cli('flags', 'set', 'cli.flag', '--description', 'from the host');
    expect(set.code, set.output).toBe(0);
    expect(set.output).toMatch(/cli\.flag \(boolean\) enabled/);
    expect((await cli('flags', 'override', 'cli.flag', '--org', tenant.name, '--variant', 'on')).code).toBe(
      0,
    );
    const client = account.platform.featureFlags.client;
    expect(await client.getBooleanDetails('cli.flag', false, { targetingKey: tenant.id })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    expect((await cli('flags', 'rollout', 'cli.flag', 'on=1,off=3')).code).toBe(0);
    expect((await cli('flags', 'disable', 'cli.flag')).code).toBe(0);
    expect(await client.getBooleanDetails('cli.flag', false, { targetingKey: tenant.id })).toMatchObject({
      reason: 'DISABLED',
    });
    const listed = await cli('flags', 'get', 'cli.flag', '--json');
    expect(JSON.parse(listed.output)).toMatchObject({
      enabled: false,
      rollout: [
        { variant: 'on', weight: 1 },
        { variant: 'off', weight: 3 },
      ],
      overrides: [{ orgId: tenant.id, variant: 'on' }],
    });
    expect((await cli('flags', 'delete', 'cli.flag')).output).toBe('deleted cli.flag');
    const unknown = await cli('flags', 'enable', 'cli.flag');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toMatch(/feature flag "cli\.flag" not found \(flag-not-found\)/);
    expect((await cli('flags', 'rollout', 'cli.flag', 'on=lots')).code).toBe(2);
    expect((await cli('flags', 'override', 'cli.flag', '--org', tenant.name)).code).toBe(2);

    // The override is in the tenant's own log; the global changes in none (the operator's host did them).
    const tenantEvents = (await account.platform.auditLog.list({ orgId: tenant.id, limit: 50 })).events;
    expect(
      tenantEvents.filter((event) => event.details.flag === 'cli.flag').map((event) => event.action),
    ).toEqual(['flag.override.set']);
    const chain = await account.platform.database.db
      .withTables<AuditTables>()
      .selectFrom('audit_events')
      .select(['action', 'actor_type'])
      .where('target_id', '=', 'cli.flag')
      .orderBy('seq')
      .execute();
    expect(chain).toEqual(
      ['flag.created', 'flag.override.set', 'flag.updated', 'flag.updated', 'flag.deleted'].map((action) => ({
        action,
        actor_type: 'cli',
      })),
    );
  });
});
