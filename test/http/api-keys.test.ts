import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { expectProblem } from '../authorization/route-matrix.js';

interface ApiKeyBody {
  id: string;
  name: string;
  prefix: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  key?: string;
}

describe('API-key management API', () => {
  let opened: PlatformApp;
  let admin: RoleKeys;

  beforeAll(async () => {
    opened = await openPlatformApp();
    admin = (await createOrganisationWithKeys(opened.platform, 'Key admins')).keys;
  });

  afterAll(() => opened?.close());

  const create = (payload: object, key = admin.admin) =>
    opened.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(key), payload });
  const list = async () => {
    const response = await opened.app.inject({ url: '/api/v1/api-keys', headers: bearer(admin.admin) });
    expect(response.statusCode).toBe(200);
    return response;
  };
  /** A call any role may make: 404 for an unknown media id means the key authenticated. */
  const use = (key: string) =>
    opened.app.inject({ url: `/api/v1/media/${randomUUID()}`, headers: bearer(key) });

  it('creates a key for the caller’s organisation and shows it once', async () => {
    const response = await create({ name: '  CI uploader ', role: 'analyst', expiresInDays: 30 });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const created = response.json<ApiKeyBody>();
    expect(created).toMatchObject({
      name: 'CI uploader',
      role: 'analyst',
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(created.key).toMatch(/^sag_[A-Za-z0-9_-]{43}$/);
    expect(created.key?.startsWith(created.prefix)).toBe(true);
    const expires = Date.parse(created.expiresAt ?? '') - Date.parse(created.createdAt);
    expect(Math.abs(expires - 30 * 86_400_000)).toBeLessThan(60_000);
    expect((await use(created.key ?? '')).statusCode).toBe(404);

    const listing = await list();
    expect(listing.body).not.toContain(created.key);
    expect(listing.body).not.toMatch(/key_hash|keyHash/);
    const listed = listing.json<{ items: ApiKeyBody[] }>().items.find((key) => key.id === created.id);
    expect(listed).toEqual({ ...created, key: undefined, lastUsedAt: expect.any(String) });
    expect(Object.keys(listed ?? {}).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role'].sort(),
    );
  });

  it('refuses bodies that are not exactly { name, role, expiresInDays? }', async () => {
    for (const payload of [
      { name: 'x', role: 'analyst', orgId: randomUUID() },
      { name: 'x', role: 'root' },
      { name: '', role: 'viewer' },
      { name: 'x', role: 'viewer', expiresInDays: 0 },
      { name: 'x', role: 'viewer', expiresInDays: 1.5 },
      { role: 'viewer' },
    ]) {
      expectProblem(await create(payload), 400, 'validation-failed');
    }
  });

  it('revokes at once and audits creation and revocation; a second revocation and another organisation’s key are 404', async () => {
    const created = (await create({ name: 'to revoke', role: 'viewer' })).json<ApiKeyBody>();
    expect((await use(created.key ?? '')).statusCode).toBe(404);
    const revoke = (id: string, key = admin.admin) =>
      opened.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: bearer(key) });
    const revoked = await revoke(created.id);
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect(revoked.body).toBe('');
    expectProblem(await use(created.key ?? ''), 401, 'unauthenticated');
    expectProblem(await revoke(created.id), 404, 'not-found');
    const listed = (await list()).json<{ items: ApiKeyBody[] }>().items.find((key) => key.id === created.id);
    expect(listed?.revokedAt).toEqual(expect.any(String));

    const events = await opened.app.inject({ url: '/api/v1/audit-events', headers: bearer(admin.admin) });
    expect(events.statusCode, events.body).toBe(200);
    const audited = events.json<{
      events: { action: string; target: { id: string } | null; actor: object }[];
    }>();
    const about = audited.events.filter((event) => event.target?.id === created.id);
    expect(about.map((event) => event.action).sort()).toEqual(['apikey.create', 'apikey.revoke']);
    expect(about[0]?.actor).toMatchObject({ type: 'api-key' });
    expect(events.body).not.toContain(created.key);

    const other = await createOrganisationWithKeys(opened.platform, 'Other key admins');
    const othersKey = (await create({ name: 'theirs', role: 'viewer' }, other.keys.admin)).json<ApiKeyBody>();
    expectProblem(await revoke(othersKey.id), 404, 'not-found');
    expect((await use(othersKey.key ?? '')).statusCode).toBe(404);
    expectProblem(await revoke('not-a-uuid'), 400, 'validation-failed');
  });

  it('stops accepting a key the moment it expires, though its check was cached', async () => {
    const created = (
      await create({ name: 'short-lived', role: 'viewer', expiresInDays: 1 })
    ).json<ApiKeyBody>();
    const expiresAt = Date.now() + 400;
    await opened.platform.database.db
      .updateTable('api_keys')
      .set({ expires_at: new Date(expiresAt) })
      .where('id', '=', created.id)
      .execute();
    expect((await use(created.key ?? '')).statusCode).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 20));
    expectProblem(await use(created.key ?? ''), 401, 'unauthenticated');
  });
});
