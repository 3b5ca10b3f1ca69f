import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CatalogedRoute } from '../../src/http/route-catalog.js';
import { expectProblem, paramNames, policyOf, routeLabel } from '../authorization/route-matrix.js';
import { nextClientAddress } from '../authorization/platform-app.js';
import { openAccountApp, strongPassword, type AccountApp, type Client } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';

/** A one-time token as the platform makes them, wherever it appears. */
const anyToken = /[A-Za-z0-9_-]{43}/g;

interface OutboxBody {
  messages: { to: string; subject: string; body: string }[];
}

/** The keys of a route's zod body schema (empty when it takes no JSON object). */
function bodyKeys(route: CatalogedRoute): string[] {
  const body = route.schema?.body as { shape?: Record<string, unknown> } | undefined;
  return Object.keys(body?.shape ?? {});
}

describeEachImplementation(
  'admins and admin API keys cannot take over another account',
  databaseImplementations(),
  (implementation) => {
    let account: AccountApp;
    let org: { id: string; name: string };
    let adminKey: string;
    let admin: Client;
    let victim: { id: string; email: string };

    beforeAll(async () => {
      account = await openAccountApp(implementation);
      org = await account.createOrg('Newsroom');
      adminKey = (
        await account.platform.services.apiKeyService.create({
          orgName: org.name,
          name: 'admin robot',
          role: 'admin',
        })
      ).key;
      admin = account.client();
      expect((await admin.login((await account.createUser(org.id, 'admin')).email)).statusCode).toBe(200);
      victim = await account.createUser(org.id, 'analyst');
    });

    afterAll(async () => {
      await account?.close();
    });

    const withKey = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      account.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${adminKey}` },
        remoteAddress: nextClientAddress(),
        ...(payload ? { payload } : {}),
      });

    /** Every token-shaped string in the answer, tried on the reset confirmation: none may work. */
    async function expectNoUsableToken(outboxAnswer: string): Promise<void> {
      for (const candidate of outboxAnswer.match(anyToken) ?? []) {
        const tried = await account.client().post('/api/v1/auth/password-reset/confirm', {
          token: candidate,
          newPassword: 'taken over, I hope',
        });
        expectProblem(tried, 400, 'invalid-token');
      }
      expectProblem(
        await account.client().post('/api/v1/auth/password-reset/confirm', {
          token: '[redacted]',
          newPassword: 'taken over, I hope',
        }),
        400,
        'invalid-token',
      );
    }

    it("an admin API key asks for another person's reset, reads the outbox and finds no usable link", async () => {
      const requested = await withKey('POST', '/api/v1/auth/password-reset', { email: victim.email });
      expect(requested.statusCode, requested.body).toBe(202);
      await account.settle();

      const listed = await withKey('GET', '/api/v1/outbox');
      expect(listed.statusCode, listed.body).toBe(200);
      const mail = listed.json<OutboxBody>().messages.find((message) => message.to === victim.email);
      expect(mail?.subject).toBe('Reset your SecureAI Guardian password');
      expect(mail?.body).toContain('/reset-password#token=[redacted]');
      await expectNoUsableToken(listed.body);

      // The same as a signed-in admin.
      const asAdmin = await admin.get('/api/v1/outbox');
      expect(asAdmin.statusCode, asAdmin.body).toBe(200);
      await expectNoUsableToken(asAdmin.body);

      // The victim's password is untouched.
      expect((await account.client().login(victim.email, strongPassword)).statusCode).toBe(200);

      // The link the API hid was live: the host's CLI shows it, and it works (so the redaction is what stopped
      // the admin, not a dead token).
      const held = (await account.platform.managementCommands['outbox.list']({ limit: 50 })) as {
        to: string;
        body: string;
      }[];
      const token = /reset-password#token=([A-Za-z0-9_-]{43})/.exec(
        held.find((message) => message.to === victim.email)?.body ?? '',
      )?.[1];
      expect(token).toBeDefined();
      expect(asAdmin.body).not.toContain(token);
      expect(listed.body).not.toContain(token);
      const confirmed = await account
        .client()
        .post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'the victim chose this one' });
      expect(confirmed.statusCode, confirmed.body).toBe(204);
      expect((await account.client().login(victim.email, 'the victim chose this one')).statusCode).toBe(200);
    });

    it("no route lets an admin API key set, change or reset another person's password", async () => {
      const target = await account.createUser(org.id, 'viewer');
      const before = await account.platform.services.userService.get(org.id, target.id);
      const newPassword = 'chosen by the admin robot';

      // Self-service routes are for people: an API key is refused outright.
      expectProblem(
        await withKey('POST', '/api/v1/auth/password', { currentPassword: strongPassword, newPassword }),
        403,
        'forbidden',
      );
      expectProblem(
        await withKey('POST', '/api/v1/auth/2fa/disable', { password: strongPassword, code: '123456' }),
        403,
      );
      // The admin route on users takes role and status only.
      for (const body of [
        { password: newPassword },
        { newPassword },
        { passwordHash: 'x' },
        { email: 'me@x.org' },
      ]) {
        expectProblem(await withKey('PATCH', `/api/v1/users/${target.id}`, body), 400, 'validation-failed');
      }
      // Nothing else addresses a user's password or re-sends their links.
      for (const [method, suffix] of [
        ['POST', '/password'],
        ['PUT', '/password'],
        ['PATCH', '/password'],
        ['POST', '/password-reset'],
        ['POST', '/reset'],
        ['POST', '/invite'],
        ['PUT', ''],
      ] as const) {
        expectProblem(await withKey(method, `/api/v1/users/${target.id}${suffix}`, { newPassword }), 404);
      }
      // Re-inviting a member is refused; inviting someone else's address gives a link that cannot take it over.
      expectProblem(
        await withKey('POST', '/api/v1/users/invites', { email: target.email, role: 'admin' }),
        409,
        'already-a-member',
      );
      const otherOrg = await account.createOrg('Elsewhere');
      const outsider = await account.createUser(otherOrg.id, 'admin');
      const invited = await withKey('POST', '/api/v1/users/invites', {
        email: outsider.email,
        role: 'admin',
      });
      expect(invited.statusCode, invited.body).toBe(201);
      const inviteToken = /#token=([A-Za-z0-9_-]{43})$/.exec(invited.json<{ link: string }>().link)?.[1];
      expectProblem(
        await account
          .client()
          .post('/api/v1/auth/invites/accept', { token: inviteToken, password: newPassword }),
        409,
        'conflict',
      );
      expect((await account.client().login(outsider.email, newPassword)).statusCode).toBe(401);
      expect((await account.client().login(outsider.email, strongPassword)).json()).toMatchObject({
        user: { orgId: otherOrg.id },
      });

      expect((await account.client().login(target.email, strongPassword)).statusCode).toBe(200);
      const after = await account.platform.services.userService.get(org.id, target.id);
      expect(after.password_changed_at).toEqual(before.password_changed_at);
    });

    it('the route table: no route that admits API keys, or that names a user, takes a password', () => {
      const passwordRoutes = account.app.routeCatalog.filter((route) =>
        bodyKeys(route).some((key) => /password/i.test(key)),
      );
      // The guard sees the password routes at all (login, change, reset, invite acceptance, 2FA).
      expect(passwordRoutes.map(routeLabel)).toEqual(
        expect.arrayContaining([
          'POST /api/v1/auth/login',
          'POST /api/v1/auth/password',
          'POST /api/v1/auth/password-reset/confirm',
          'POST /api/v1/auth/invites/accept',
        ]),
      );
      for (const route of passwordRoutes) {
        const policy = policyOf(route);
        const label = routeLabel(route);
        expect(paramNames(route.url), `${label} names someone`).toEqual([]);
        if (policy === 'public') {
          // Anonymous: only with a mailed token, or the account's own email and password (login).
          expect(bodyKeys(route), label).toEqual(
            expect.arrayContaining([expect.stringMatching(/^(token|email)$/)]),
          );
        } else {
          expect(policy?.actor, `${label} must be for signed-in people only`).toBe('user');
        }
      }
    });
  },
);
