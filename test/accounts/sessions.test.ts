import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import {
  goodPassword,
  login,
  openAccountsHarness,
  someIp,
  withSession,
  type AccountsHarness,
} from './harness.js';

describeEachImplementation('sessions', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let harness: AccountsHarness;
  let orgId: string;

  beforeAll(async () => {
    database = await implementation.open();
    harness = await openAccountsHarness(database);
    orgId = (await harness.createOrg()).id;
  });

  afterAll(async () => {
    await harness?.close();
    await database?.destroy();
  });

  const me = (session: Parameters<typeof withSession>[0]) =>
    harness.app.inject(withSession(session, { method: 'GET', url: '/api/v1/me' }));

  it('issues a 256-bit token of which only the SHA-256 is stored, and a new one at every login', async () => {
    const user = await harness.createUser(orgId, 'analyst');
    const first = await login(harness.app, user.email);
    const second = await login(harness.app, user.email);
    expect(first.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.cookie, 'base64url')).toHaveLength(32);
    expect(second.cookie).not.toBe(first.cookie);
    expect(second.csrfToken).not.toBe(first.csrfToken);
    const stored = await database.db
      .selectFrom('sessions')
      .select(['token_hash', 'csrf_secret'])
      .where('user_id', '=', user.id)
      .execute();
    const hashes = stored.map((row) => row.token_hash);
    expect(hashes).toContain(createHash('sha256').update(first.cookie).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(first.cookie);
    expect(JSON.stringify(stored)).not.toContain(first.csrfToken);
  });

  it('prevents fixation: a login that presents a cookie gets a new token and the presented one stops working', async () => {
    const user = await harness.createUser(orgId, 'viewer');
    const planted = await login(harness.app, user.email);
    const again = await login(harness.app, user.email, goodPassword, {
      cookie: `${planted.cookieName}=${planted.cookie}`,
    });
    expect(again.cookie).not.toBe(planted.cookie);
    expect((await me(planted)).statusCode).toBe(401);
    expect((await me(again)).statusCode).toBe(200);
  });

  it('answers /me with the user, organisation, role and 2FA status, never cached', async () => {
    const user = await harness.createUser(orgId, 'auditor');
    const session = await login(harness.app, user.email);
    expect(session.response.json()).toEqual({
      user: { id: user.id, email: user.email, role: 'auditor', orgId },
      csrfToken: session.csrfToken,
      secondFactorRequired: false,
    });
    expect(session.response.headers['cache-control']).toBe('no-store');
    const response = await me(session);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toMatchObject({
      user: { id: user.id, email: user.email, role: 'auditor', orgId },
      organisation: { id: orgId, requireAdmin2fa: false },
      twoFactor: { enabled: false, required: false },
      session: { stage: 'complete' },
    });
  });

  it('ends a session after the idle timeout, measured from the last request', async () => {
    const user = await harness.createUser(orgId, 'analyst');
    const session = await login(harness.app, user.email);
    harness.clock.advanceMinutes(29);
    expect((await me(session)).statusCode).toBe(200);
    harness.clock.advanceMinutes(29);
    expect((await me(session)).statusCode).toBe(200);
    harness.clock.advanceMinutes(30);
    expect((await me(session)).statusCode).toBe(401);
    harness.clock.advanceMinutes(-30);
    expect((await me(session)).statusCode, 'an expired session is revoked for good').toBe(401);
  });

  it('ends a session at the absolute timeout however active it is', async () => {
    const user = await harness.createUser(orgId, 'analyst');
    const session = await login(harness.app, user.email);
    for (let elapsed = 20; elapsed < 12 * 60; elapsed += 20) {
      harness.clock.advanceMinutes(20);
      expect((await me(session)).statusCode, `after ${elapsed} minutes`).toBe(200);
    }
    harness.clock.advanceMinutes(20);
    expect((await me(session)).statusCode).toBe(401);
  });

  it('logout revokes the session and clears the cookie', async () => {
    const user = await harness.createUser(orgId, 'viewer');
    const session = await login(harness.app, user.email);
    const response = await harness.app.inject(
      withSession(session, { method: 'POST', url: '/api/v1/auth/logout' }),
    );
    expect(response.statusCode, response.body).toBe(204);
    const cleared = response.cookies.find((cookie) => cookie.name === session.cookieName);
    expect(cleared?.value).toBe('');
    expect((await me(session)).statusCode).toBe(401);
    expect(harness.audit.events).toContainEqual(
      expect.objectContaining({
        action: 'auth.logout',
        outcome: 'success',
        actor: { type: 'user', id: user.id },
      }),
    );
  });

  it('a password change needs the current password, ends the other sessions and rotates this one', async () => {
    const user = await harness.createUser(orgId, 'analyst');
    const here = await login(harness.app, user.email);
    const elsewhere = await login(harness.app, user.email);
    const change = (body: object, session = here) =>
      harness.app.inject(
        withSession(session, { method: 'POST', url: '/api/v1/auth/password', payload: body }),
      );

    const wrong = await change({ currentPassword: 'not my password', newPassword: 'a brand new passphrase' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'invalid-credentials' });
    expect((await change({ currentPassword: goodPassword, newPassword: 'short' })).json()).toMatchObject({
      status: 400,
      code: 'password-too-short',
    });
    expect((await change({ currentPassword: goodPassword, newPassword: 'Password1' })).json()).toMatchObject({
      status: 400,
      code: 'password-too-common',
    });
    expect((await me(elsewhere)).statusCode, 'refused changes end nothing').toBe(200);

    const changed = await change({ currentPassword: goodPassword, newPassword: 'a brand new passphrase' });
    expect(changed.statusCode, changed.body).toBe(200);
    const rotated = changed.cookies.find((cookie) => cookie.name === here.cookieName);
    expect(rotated?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated?.value).not.toBe(here.cookie);
    const current = {
      ...here,
      cookie: rotated?.value ?? '',
      csrfToken: changed.json<{ csrfToken: string }>().csrfToken,
    };
    expect(current.csrfToken).not.toBe(here.csrfToken);
    expect((await me(here)).statusCode, 'the old cookie of this session').toBe(401);
    expect((await me(elsewhere)).statusCode, 'the other session').toBe(401);
    expect((await me(current)).statusCode, 'the rotated cookie').toBe(200);

    const oldPassword = await harness.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: someIp(),
      payload: { email: user.email, password: goodPassword },
    });
    expect(oldPassword.statusCode).toBe(401);
    await login(harness.app, user.email, 'a brand new passphrase');
    expect(harness.audit.actions()).toEqual(
      expect.arrayContaining(['auth.password.change:failure', 'auth.password.change:success']),
    );
  });

  it('lists the user’s live sessions, marks the current one, and revokes one by id', async () => {
    const user = await harness.createUser(orgId, 'viewer');
    const phone = await login(harness.app, user.email, goodPassword, { 'user-agent': 'phone browser' });
    const laptop = await login(harness.app, user.email, goodPassword, { 'user-agent': 'laptop browser' });
    const listed = await harness.app.inject(
      withSession(laptop, { method: 'GET', url: '/api/v1/auth/sessions' }),
    );
    expect(listed.statusCode).toBe(200);
    const { sessions } = listed.json<{
      sessions: { id: string; current: boolean; userAgent: string; ip: string; createdAt: string }[];
    }>();
    expect(sessions).toHaveLength(2);
    expect(sessions.find((entry) => entry.current)?.userAgent).toBe('laptop browser');
    const phoneEntry = sessions.find((entry) => !entry.current);
    expect(phoneEntry).toMatchObject({ userAgent: 'phone browser', ip: expect.stringMatching(/^10\./) });
    expect(JSON.stringify(sessions)).not.toContain(phone.cookie);

    const revoked = await harness.app.inject(
      withSession(laptop, { method: 'DELETE', url: `/api/v1/auth/sessions/${phoneEntry?.id}` }),
    );
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect((await me(phone)).statusCode).toBe(401);
    expect((await me(laptop)).statusCode).toBe(200);
  });

  it("another user's session id is 404 and stays alive", async () => {
    const alice = await harness.createUser(orgId, 'analyst');
    const bob = await harness.createUser(orgId, 'analyst');
    const aliceSession = await login(harness.app, alice.email);
    const bobSession = await login(harness.app, bob.email);
    const bobId = (
      await harness.app.inject(withSession(bobSession, { method: 'GET', url: '/api/v1/auth/sessions' }))
    ).json<{ sessions: { id: string }[] }>().sessions[0]?.id;
    const response = await harness.app.inject(
      withSession(aliceSession, { method: 'DELETE', url: `/api/v1/auth/sessions/${bobId}` }),
    );
    expect(response.statusCode).toBe(404);
    expect((await me(bobSession)).statusCode).toBe(200);
  });

  it('a session waiting for its second factor authorises nothing but the second step, CSRF token and logout', async () => {
    const user = await harness.createUser(orgId, 'admin');
    harness.enrolled.add(user.id);
    const pending = await login(harness.app, user.email);
    expect(pending.response.json()).toMatchObject({ secondFactorRequired: true });
    const meResponse = await me(pending);
    expect(meResponse.statusCode).toBe(401);
    expect(meResponse.json()).toMatchObject({ code: 'second-factor-required' });
    const users = await harness.app.inject(withSession(pending, { method: 'GET', url: '/api/v1/users' }));
    expect(users.statusCode).toBe(401);
    const csrf = await harness.app.inject(withSession(pending, { method: 'GET', url: '/api/v1/auth/csrf' }));
    expect(csrf.json()).toEqual({ csrfToken: pending.csrfToken });

    // What the TOTP step does once the code is right: rotate into a complete session.
    const sessionId = (await harness.services.sessions.authenticate(pending.cookie))?.sessionId ?? '';
    const completed = await harness.services.sessions.rotate(sessionId, 'complete');
    expect((await me(pending)).statusCode, 'the pre-2FA token is dead').toBe(401);
    const full = { ...pending, cookie: completed.token, csrfToken: completed.csrfToken };
    expect((await me(full)).statusCode).toBe(200);
    const logout = await harness.app.inject(
      withSession(full, { method: 'POST', url: '/api/v1/auth/logout' }),
    );
    expect(logout.statusCode).toBe(204);
  });
});
