import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import {
  goodPassword,
  login,
  openAccountsHarness,
  origin,
  someIp,
  withSession,
  type AccountsHarness,
  type SignedIn,
} from './harness.js';

describeEachImplementation(
  'CSRF, enumeration and user management',
  databaseImplementations(),
  (implementation) => {
    let database: TestDatabase;
    let harness: AccountsHarness;
    let orgId: string;
    let admin: { id: string; email: string };
    let adminSession: SignedIn;

    beforeAll(async () => {
      database = await implementation.open();
      harness = await openAccountsHarness(database);
      orgId = (await harness.createOrg()).id;
      admin = await harness.createUser(orgId, 'admin');
      adminSession = await login(harness.app, admin.email);
    });

    afterAll(async () => {
      await harness?.close();
      await database?.destroy();
    });

    const patchUser = (session: SignedIn, id: string, body: object, overrides = {}) =>
      harness.app.inject(
        withSession(session, { method: 'PATCH', url: `/api/v1/users/${id}`, payload: body }, overrides),
      );

    describe('CSRF on requests made with the session cookie', () => {
      let target: { id: string };
      beforeAll(async () => {
        target = await harness.createUser(orgId, 'viewer');
      });

      it.each([
        ['no X-CSRF-Token', { csrf: null }],
        ['a wrong X-CSRF-Token', { csrf: 'A'.repeat(43) }],
        ['a cross-site Origin', { origin: 'https://evil.example' }],
        ['an Origin differing only in port', { origin: 'http://localhost:8081' }],
        ['an Origin of "null"', { origin: 'null' }],
        ['neither Origin nor Referer', { origin: null }],
      ])('refuses a state change with %s: 403 csrf-failed', async (_label, overrides) => {
        const response = await patchUser(adminSession, target.id, { role: 'analyst' }, overrides);
        expect(response.statusCode, response.body).toBe(403);
        expect(response.json()).toMatchObject({ code: 'csrf-failed' });
      });

      it("refuses another session's CSRF token", async () => {
        const other = await login(harness.app, admin.email);
        const response = await patchUser(
          adminSession,
          target.id,
          { role: 'analyst' },
          { csrf: other.csrfToken },
        );
        expect(response.json()).toMatchObject({ status: 403, code: 'csrf-failed' });
      });

      it('accepts a same-origin request with the token, by Origin or (without Origin) by Referer', async () => {
        expect((await patchUser(adminSession, target.id, { role: 'analyst' })).statusCode).toBe(200);
        const byReferer = await harness.app.inject({
          method: 'PATCH',
          url: `/api/v1/users/${target.id}`,
          headers: {
            cookie: `${adminSession.cookieName}=${adminSession.cookie}`,
            'x-csrf-token': adminSession.csrfToken,
            referer: `${origin}/settings/users`,
          },
          payload: { role: 'viewer' },
        });
        expect(byReferer.statusCode, byReferer.body).toBe(200);
      });

      it('refuses a WebSocket handshake made with the cookie from another origin', async () => {
        const handshake = (from: string) =>
          harness.app.inject({
            method: 'GET',
            url: '/api/v1/events',
            headers: {
              cookie: `${adminSession.cookieName}=${adminSession.cookie}`,
              origin: from,
              connection: 'Upgrade',
              upgrade: 'websocket',
              'sec-websocket-version': '13',
              'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            },
          });
        const crossSite = await handshake('https://evil.example');
        expect(crossSite.json()).toMatchObject({ status: 403, code: 'csrf-failed' });
        expect((await handshake(origin)).statusCode).not.toBe(403);
      });

      it('needs no token for GET, and GET /auth/csrf returns the token', async () => {
        const response = await harness.app.inject(
          withSession(adminSession, { method: 'GET', url: '/api/v1/auth/csrf' }),
        );
        expect(response.json()).toEqual({ csrfToken: adminSession.csrfToken });
      });

      it('GET /auth/session says whether this browser is signed in, never with a 401', async () => {
        const signedOut = await harness.app.inject({ method: 'GET', url: '/api/v1/auth/session' });
        expect(signedOut.statusCode).toBe(200);
        expect(signedOut.headers['cache-control']).toBe('no-store');
        expect(signedOut.json()).toEqual({ signedIn: false, stage: null, csrfToken: null });
        const forged = await harness.app.inject({
          method: 'GET',
          url: '/api/v1/auth/session',
          headers: { cookie: `guardian_session=${'A'.repeat(43)}` },
        });
        expect(forged.json()).toEqual({ signedIn: false, stage: null, csrfToken: null });
        const signedIn = await harness.app.inject(
          withSession(adminSession, { method: 'GET', url: '/api/v1/auth/session' }),
        );
        expect(signedIn.json()).toEqual({
          signedIn: true,
          stage: 'complete',
          csrfToken: adminSession.csrfToken,
        });
      });

      it('exempts API-key requests (no cookie, no Origin, no token)', async () => {
        const org = await database.db
          .selectFrom('organisations')
          .select('name')
          .where('id', '=', orgId)
          .executeTakeFirstOrThrow();
        const key = await harness.services.apiKeys.create({
          orgName: org.name,
          name: 'automation',
          role: 'admin',
        });
        const response = await harness.app.inject({
          method: 'PATCH',
          url: `/api/v1/users/${target.id}`,
          headers: { authorization: `Bearer ${key.key}` },
          payload: { role: 'analyst' },
        });
        expect(response.statusCode, response.body).toBe(200);
        const me = await harness.app.inject({
          method: 'GET',
          url: '/api/v1/me',
          headers: { authorization: `Bearer ${key.key}` },
        });
        expect(me.statusCode, 'API keys are no person').toBe(403);
      });

      it('refuses a login posted from another site (login CSRF) but accepts one without Origin (curl)', async () => {
        const crossSite = await harness.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: someIp(),
          headers: { origin: 'https://evil.example' },
          payload: { email: admin.email, password: goodPassword },
        });
        expect(crossSite.json()).toMatchObject({ status: 403, code: 'csrf-failed' });
        expect(crossSite.cookies).toEqual([]);
        const curl = await harness.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: someIp(),
          payload: { email: admin.email, password: goodPassword },
        });
        expect(curl.statusCode).toBe(200);
      });
    });

    describe('login answers', () => {
      const attempt = (email: string, password: string) =>
        harness.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: someIp(),
          headers: { origin },
          payload: { email, password },
        });
      const comparable = (body: Record<string, unknown>) => ({ ...body, instance: undefined });

      it('does not tell an unknown email from a wrong password or a disabled account, and does the same hashing', async () => {
        const disabled = await harness.createUser(orgId, 'viewer');
        await patchUser(adminSession, disabled.id, { status: 'disabled' });
        const before = { ...harness.hasherCalls };
        const unknown = await attempt('nobody@example.org', goodPassword);
        expect(harness.hasherCalls.verifyDummy, 'unknown email: a dummy verification').toBe(
          before.verifyDummy + 1,
        );
        const wrong = await attempt(admin.email, 'not the password');
        const off = await attempt(disabled.email, goodPassword);
        expect(harness.hasherCalls.verify, 'known email: a real verification each').toBe(before.verify + 2);
        for (const response of [unknown, wrong, off]) {
          expect(response.statusCode).toBe(401);
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.cookies).toEqual([]);
        }
        expect(comparable(wrong.json())).toEqual(comparable(unknown.json()));
        expect(comparable(off.json())).toEqual(comparable(unknown.json()));
        expect(unknown.json()).toMatchObject({ code: 'invalid-credentials' });
      });

      it('asks the throttle first, reports the outcome, and answers 429 with Retry-After when it refuses', async () => {
        harness.throttle.calls.length = 0;
        await attempt(admin.email.toUpperCase(), 'wrong password');
        await login(harness.app, admin.email);
        expect(harness.throttle.calls).toEqual([
          `check:${admin.email}`,
          `failure:${admin.email}`,
          `check:${admin.email}`,
          `success:${admin.email}`,
        ]);
        harness.throttle.refusal = { allowed: false, retryAfterSeconds: 42, reason: 'locked' };
        try {
          const verifiesBefore = harness.hasherCalls.verify;
          const refused = await attempt(admin.email, goodPassword);
          expect(refused.statusCode).toBe(429);
          expect(refused.headers['retry-after']).toBe('42');
          expect(refused.json()).toMatchObject({ code: 'too-many-attempts' });
          expect(harness.hasherCalls.verify, 'no password check while refused').toBe(verifiesBefore);
        } finally {
          harness.throttle.refusal = null;
        }
      });

      it('audits login successes and failures without secrets', async () => {
        harness.audit.events.length = 0;
        await attempt(admin.email, 'wrong password');
        await attempt('ghost@example.org', 'wrong password');
        await login(harness.app, admin.email);
        expect(
          harness.audit.events.map((event) => [event.action, event.outcome, event.details?.reason]),
        ).toEqual([
          ['auth.login', 'failure', 'wrong-password'],
          ['auth.login', 'failure', 'unknown-account'],
          ['auth.login', 'success', undefined],
        ]);
        expect(harness.audit.events[0]).toMatchObject({ orgId, target: { type: 'user', id: admin.id } });
        expect(harness.audit.events[1]).toMatchObject({
          orgId: null,
          actor: { type: 'anonymous', id: null },
        });
        expect(JSON.stringify(harness.audit.events)).not.toMatch(/wrong password|correct horse/);
      });

      it('rejects unknown body properties', async () => {
        const response = await harness.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: someIp(),
          payload: { email: admin.email, password: goodPassword, role: 'admin' },
        });
        expect(response.json()).toMatchObject({ status: 400, code: 'validation-failed' });
      });
    });

    describe('user management by admins', () => {
      it('lists the users of the own organisation only', async () => {
        const otherOrg = await harness.createOrg();
        const stranger = await harness.createUser(otherOrg.id, 'admin');
        const response = await harness.app.inject(
          withSession(adminSession, { method: 'GET', url: '/api/v1/users' }),
        );
        expect(response.statusCode).toBe(200);
        const { users } = response.json<{ users: { id: string; orgId: string }[] }>();
        expect(users.map((user) => user.id)).toContain(admin.id);
        expect(users.map((user) => user.id)).not.toContain(stranger.id);
        expect(users.every((user) => user.orgId === orgId)).toBe(true);
        expect(response.body).not.toContain('argon2');
        const strangerPatch = await patchUser(adminSession, stranger.id, { role: 'viewer' });
        expect(strangerPatch.statusCode).toBe(404);
      });

      it('refuses non-admins with 403', async () => {
        const viewer = await harness.createUser(orgId, 'viewer');
        const session = await login(harness.app, viewer.email);
        expect(
          (await harness.app.inject(withSession(session, { method: 'GET', url: '/api/v1/users' })))
            .statusCode,
        ).toBe(403);
        expect((await patchUser(session, viewer.id, { role: 'admin' })).statusCode).toBe(403);
      });

      it('applies a role change to live sessions at once', async () => {
        const other = await harness.createUser(orgId, 'admin');
        const session = await login(harness.app, other.email);
        const list = () => harness.app.inject(withSession(session, { method: 'GET', url: '/api/v1/users' }));
        expect((await list()).statusCode).toBe(200);
        const changed = await patchUser(adminSession, other.id, { role: 'analyst' });
        expect(changed.json()).toMatchObject({ id: other.id, role: 'analyst', status: 'active' });
        expect((await list()).statusCode).toBe(403);
        expect(harness.audit.events).toContainEqual(
          expect.objectContaining({ action: 'user.role.change', details: { from: 'admin', to: 'analyst' } }),
        );
      });

      it('disabling a user ends all their sessions and their logins fail', async () => {
        const analyst = await harness.createUser(orgId, 'analyst');
        const one = await login(harness.app, analyst.email);
        const two = await login(harness.app, analyst.email);
        const disabled = await patchUser(adminSession, analyst.id, { status: 'disabled' });
        expect(disabled.json()).toMatchObject({ status: 'disabled' });
        for (const session of [one, two]) {
          const response = await harness.app.inject(
            withSession(session, { method: 'GET', url: '/api/v1/me' }),
          );
          expect(response.statusCode).toBe(401);
        }
        const live = await database.db
          .selectFrom('sessions')
          .select('id')
          .where('user_id', '=', analyst.id)
          .where('revoked_at', 'is', null)
          .execute();
        expect(live).toEqual([]);
        expect(harness.audit.events).toContainEqual(
          expect.objectContaining({ action: 'user.disable', target: { type: 'user', id: analyst.id } }),
        );
      });

      it('never leaves an organisation without an active admin', async () => {
        const org = await harness.createOrg();
        const soleAdmin = await harness.createUser(org.id, 'admin');
        const session = await login(harness.app, soleAdmin.email);
        const demote = await patchUser(session, soleAdmin.id, { role: 'viewer' });
        expect(demote.json()).toMatchObject({ status: 409, code: 'last-admin' });
        const disable = await patchUser(session, soleAdmin.id, { status: 'disabled' });
        expect(disable.json()).toMatchObject({ status: 409, code: 'last-admin' });
        const second = await harness.createUser(org.id, 'admin');
        expect((await patchUser(session, soleAdmin.id, { role: 'auditor' })).statusCode).toBe(200);
        const secondSession = await login(harness.app, second.email);
        expect((await patchUser(secondSession, second.id, { role: 'viewer' })).json()).toMatchObject({
          status: 409,
          code: 'last-admin',
        });
      });

      it('rejects smuggled properties and empty changes', async () => {
        const viewer = await harness.createUser(orgId, 'viewer');
        expect((await patchUser(adminSession, viewer.id, { role: 'analyst', orgId: 'x' })).statusCode).toBe(
          400,
        );
        expect((await patchUser(adminSession, viewer.id, {})).statusCode).toBe(400);
        expect((await patchUser(adminSession, viewer.id, { role: 'root' })).statusCode).toBe(400);
      });
    });
  },
);
