import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventTable } from '../../src/db/audit-schema.js';
import { goodPassword, login, someIp, withSession } from '../accounts/harness.js';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { expectProblem } from '../http/fake-app.js';

const opened = await openPlatformApp();
const { app, platform, dataDir } = opened;
let org: { orgId: string; keys: RoleKeys };
let other: { orgId: string; keys: RoleKeys };

beforeAll(async () => {
  org = await createOrganisationWithKeys(platform, 'Lifecycle');
  other = await createOrganisationWithKeys(platform, 'Lifecycle other');
});
afterAll(() => opened.close());

const blobExists = (key: string) =>
  stat(join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`)).then(
    () => true,
    () => false,
  );

async function storedMedia(orgId: string, uploaderId?: string) {
  const id = randomUUID();
  const bytes = Buffer.from(`bytes of ${id}`);
  await platform.blobStore.put(`media-${id}`, Readable.from([bytes]));
  await platform.repositories.media.insert(platform.database.db, {
    id,
    org_id: orgId,
    sha256: 'ab'.repeat(32),
    size_bytes: bytes.length,
    mime_type: 'video/mp4',
    original_filename: 'clip.mp4',
    blob_key: `media-${id}`,
    status: 'stored',
    probe: '{}',
    ...(uploaderId ? { uploader_type: 'user' as const, uploader_id: uploaderId } : {}),
  });
  const analysis = await platform.repositories.analyses.createOrGet(platform.database.db, {
    orgId,
    mediaId: id,
    pipelineVersion: 'lifecycle',
  });
  return { id, blobKey: `media-${id}`, analysisId: analysis.id };
}

const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, key: string, payload?: object) =>
  app.inject({
    method,
    url,
    remoteAddress: someIp(),
    headers: bearer(key),
    ...(payload ? { payload } : {}),
  });

async function auditActions(targetId: string) {
  const rows = await platform.database.db
    .withTables<{ audit_events: AuditEventTable }>()
    .selectFrom('audit_events')
    .select(['action', 'details'])
    .where('target_id', '=', targetId)
    .orderBy('seq')
    .execute();
  return rows;
}

describe('retention policy', () => {
  const url = '/api/v1/organisation/retention-policy';

  it('is null until set; admins set it within 1–36500 days or null, audited before and after', async () => {
    expect((await call('GET', url, org.keys.admin)).json()).toEqual({
      mediaRetentionDays: null,
      updatedAt: null,
    });
    for (const payload of [
      { mediaRetentionDays: 0 },
      { mediaRetentionDays: 36_501 },
      { mediaRetentionDays: 1.5 },
      {},
    ])
      expectProblem(await call('PUT', url, org.keys.admin, payload), 400);
    expectProblem(await call('PUT', url, org.keys.admin, { mediaRetentionDays: 30, reports: 1 }), 400);
    expectProblem(await call('PUT', url, org.keys.analyst, { mediaRetentionDays: 30 }), 403, 'forbidden');
    expectProblem(await call('GET', url, org.keys.auditor), 403, 'forbidden');

    const set = await call('PUT', url, org.keys.admin, { mediaRetentionDays: 30 });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ mediaRetentionDays: 30, updatedAt: expect.any(String) });
    expect((await call('GET', url, org.keys.admin)).json()).toMatchObject({ mediaRetentionDays: 30 });
    expect((await call('GET', url, other.keys.admin)).json()).toMatchObject({ mediaRetentionDays: null });
    expect((await call('PUT', url, org.keys.admin, { mediaRetentionDays: null })).json()).toMatchObject({
      mediaRetentionDays: null,
    });
    expect(await auditActions(org.orgId)).toEqual([
      {
        action: 'organisation.retention-policy.update',
        details: { mediaRetentionDaysBefore: null, mediaRetentionDaysAfter: 30 },
      },
      {
        action: 'organisation.retention-policy.update',
        details: { mediaRetentionDaysBefore: 30, mediaRetentionDaysAfter: null },
      },
    ]);
  });
});

describe('legal hold over HTTP', () => {
  it('is set by admins only, shown on the media, the list and the report, and blocks DELETE with 409', async () => {
    const media = await storedMedia(org.orgId);
    const holdUrl = `/api/v1/media/${media.id}/legal-hold`;
    expectProblem(await call('PUT', holdUrl, org.keys.analyst, { reason: 'case 7' }), 403, 'forbidden');
    expectProblem(await call('PUT', holdUrl, other.keys.admin, { reason: 'case 7' }), 404, 'not-found');
    expectProblem(await call('PUT', holdUrl, org.keys.admin, { reason: '' }), 400);
    const set = await call('PUT', holdUrl, org.keys.admin, { reason: 'case 7' });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ mediaId: media.id, legalHold: { reason: 'case 7' } });

    const shown = (await call('GET', `/api/v1/media/${media.id}`, org.keys.viewer)).json();
    expect(shown.legalHold).toMatchObject({ reason: 'case 7', since: expect.any(String) });
    const report = (await call('GET', `/api/v1/analyses/${media.analysisId}`, org.keys.viewer)).json();
    expect(report.mediaLegalHold).toMatchObject({ reason: 'case 7' });
    const listed = (await call('GET', '/api/v1/media?limit=100', org.keys.viewer)).json();
    expect(listed.items.find((item: { id: string }) => item.id === media.id)).toMatchObject({
      legalHold: true,
    });

    expectProblem(await call('DELETE', `/api/v1/media/${media.id}`, org.keys.admin), 409, 'legal-hold');
    expect(await blobExists(media.blobKey)).toBe(true);

    expect((await call('DELETE', holdUrl, org.keys.admin)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/media/${media.id}`, org.keys.viewer)).json().legalHold).toBeNull();
    expect((await call('DELETE', `/api/v1/media/${media.id}`, org.keys.analyst)).statusCode).toBe(204);
    expect(await blobExists(media.blobKey)).toBe(false);
    expect((await auditActions(media.id)).map((entry) => entry.action)).toEqual([
      'media.legal-hold.set',
      'media.legal-hold.release',
      'media.delete',
    ]);
    const [ledger] = await platform.database.db
      .selectFrom('shredded_blobs')
      .selectAll()
      .where('blob_key', '=', media.blobKey)
      .execute();
    expect(ledger).toMatchObject({ reason: 'user-deletion', organisation_id: org.orgId });
  });
});

describe('GDPR export and erasure', () => {
  async function person(role: 'analyst' | 'admin' = 'analyst') {
    const email = `${randomUUID()}@example.org`;
    const user = await platform.services.userService.create(
      { orgId: org.orgId, email, password: goodPassword, role },
      { actor: { type: 'cli', id: null } },
    );
    return { id: user.id, email };
  }

  it('exports a signed-in person their own data, without secrets; admins may export their users', async () => {
    const me = await person();
    const upload = await storedMedia(org.orgId, me.id);
    const session = await login(app, me.email);
    const response = await app.inject(
      withSession(session, { method: 'GET', url: '/api/v1/users/me/export' }),
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-disposition']).toMatch(/^attachment/);
    const exported = response.json();
    expect(exported).toMatchObject({
      user: { id: me.id, email: me.email, role: 'analyst' },
      organisation: { id: org.orgId },
      twoFactor: { enrolled: false },
      uploads: [{ id: upload.id, legalHold: false, analyses: [{ id: upload.analysisId }] }],
      truncated: { uploads: false, auditEntries: false },
    });
    expect(exported.sessions.length).toBeGreaterThan(0);
    expect(exported.auditEntries.map((entry: { action: string }) => entry.action)).toContain('user.create');
    expect(response.body).not.toMatch(/password_hash|token_hash|csrf|argon2|\$argon/i);

    expectProblem(await call('GET', '/api/v1/users/me/export', org.keys.admin), 403);
    const byAdmin = await call('GET', `/api/v1/users/${me.id}/export`, org.keys.admin);
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expectProblem(await call('GET', `/api/v1/users/${me.id}/export`, other.keys.admin), 404, 'not-found');
    expectProblem(await call('GET', `/api/v1/users/${me.id}/export`, org.keys.analyst), 403, 'forbidden');
    expect((await auditActions(me.id)).map((entry) => entry.action)).toEqual([
      'user.create',
      'user.export',
      'user.export',
    ]);
  });

  it('erases uploads (held ones reported back) and pseudonymises the account, after confirmation', async () => {
    const subject = await person();
    const free = await storedMedia(org.orgId, subject.id);
    const held = await storedMedia(org.orgId, subject.id);
    const someoneElses = await storedMedia(org.orgId);
    await call('PUT', `/api/v1/media/${held.id}/legal-hold`, org.keys.admin, { reason: 'subpoena' });
    await login(app, subject.email);
    const url = `/api/v1/users/${subject.id}/erasure`;

    expectProblem(
      await call('POST', url, org.keys.admin, { confirmEmail: 'wrong@example.org' }),
      400,
      'erasure-confirmation-mismatch',
    );
    expectProblem(
      await call('POST', url, org.keys.analyst, { confirmEmail: subject.email }),
      403,
      'forbidden',
    );
    expectProblem(
      await call('POST', url, other.keys.admin, { confirmEmail: subject.email }),
      404,
      'not-found',
    );
    expect(await blobExists(free.blobKey)).toBe(true);

    const erased = await call('POST', url, org.keys.admin, { confirmEmail: subject.email.toUpperCase() });
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json()).toEqual({
      userId: subject.id,
      shredded: [free.id],
      heldBack: [{ mediaId: held.id, reason: 'subpoena' }],
      sessionsEnded: 1,
    });
    expect(await blobExists(free.blobKey)).toBe(false);
    expect(await blobExists(held.blobKey)).toBe(true);
    expect(await blobExists(someoneElses.blobKey)).toBe(true);
    const account = await platform.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', subject.id)
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      email: `erased-${subject.id}@erased.invalid`,
      status: 'disabled',
      password_hash: '!erased',
    });
    const sessions = await platform.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', subject.id)
      .execute();
    expect(sessions).toEqual([]);
    const loginAgain = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: someIp(),
      headers: { origin: 'http://localhost' },
      payload: { email: subject.email, password: goodPassword },
    });
    expect(loginAgain.statusCode).toBe(401);
    const [ledger] = await platform.database.db
      .selectFrom('shredded_blobs')
      .selectAll()
      .where('blob_key', '=', free.blobKey)
      .execute();
    expect(ledger).toMatchObject({ reason: 'erasure-request' });
    expect((await auditActions(subject.id)).map((entry) => entry.action)).toContain('user.erasure');

    // Once the hold is released, erasing again (confirmed with the pseudonym) takes the rest.
    await call('DELETE', `/api/v1/media/${held.id}/legal-hold`, org.keys.admin);
    const again = await call('POST', url, org.keys.admin, {
      confirmEmail: `erased-${subject.id}@erased.invalid`,
    });
    expect(again.json()).toMatchObject({ shredded: [held.id], heldBack: [] });
    expect(await blobExists(held.blobKey)).toBe(false);
    expect(await platform.auditLog.verify()).toMatchObject({ ok: true });
  });

  it('refuses to erase the last active admin before touching anything', async () => {
    const solo = await createOrganisationWithKeys(platform, 'Solo');
    const email = `${randomUUID()}@example.org`;
    const admin = await platform.services.userService.create(
      { orgId: solo.orgId, email, password: goodPassword, role: 'admin' },
      { actor: { type: 'cli', id: null } },
    );
    const upload = await storedMedia(solo.orgId, admin.id);
    const response = await call('POST', `/api/v1/users/${admin.id}/erasure`, solo.keys.admin, {
      confirmEmail: email,
    });
    expectProblem(response, 409, 'last-admin');
    expect(await blobExists(upload.blobKey)).toBe(true);
  });
});
