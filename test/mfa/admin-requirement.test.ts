import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../authorization/route-matrix.js';
import { enableTotp, openAccountApp, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';

describeEachImplementation(
  'organisations requiring 2FA of admins',
  databaseImplementations(),
  (implementation) => {
    let account: AccountApp;

    beforeAll(async () => {
      account = await openAccountApp(implementation);
    });

    afterAll(async () => {
      await account?.close();
    });

    it('lets an admin toggle the setting, audited; other roles get 403 and unknown fields 400', async () => {
      const org = await account.createOrg();
      const admin = await account.createUser(org.id, 'admin');
      const analyst = await account.createUser(org.id, 'analyst');
      const adminClient = account.client();
      await adminClient.login(admin.email);
      const analystClient = account.client();
      await analystClient.login(analyst.email);

      expectProblem(
        await analystClient.request('PATCH', '/api/v1/organisation', { requireAdmin2fa: true }),
        403,
      );
      expectProblem(
        await adminClient.request('PATCH', '/api/v1/organisation', {
          requireAdmin2fa: true,
          name: 'Renamed',
        }),
        400,
      );
      const changed = await adminClient.request('PATCH', '/api/v1/organisation', { requireAdmin2fa: true });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json()).toEqual({ id: org.id, name: org.name, requireAdmin2fa: true });
      const events = await account.platform.auditLog.list({ orgId: org.id, limit: 50 });
      expect(events.events.find((event) => event.action === 'org.settings.change')).toMatchObject({
        outcome: 'success',
        actor: { type: 'user', id: admin.id },
        details: { requireAdmin2fa: true },
      });
    });

    it('confines an admin without TOTP to enrolment until they confirm it', async () => {
      const org = await account.createOrg();
      const admin = await account.createUser(org.id, 'admin');
      const analyst = await account.createUser(org.id, 'analyst');
      const client = account.client();
      await client.login(admin.email);
      expect(
        (await client.request('PATCH', '/api/v1/organisation', { requireAdmin2fa: true })).statusCode,
      ).toBe(200);

      expectProblem(await client.get('/api/v1/users'), 403, '2fa-enrolment-required');
      expectProblem(await client.get('/api/v1/me'), 403, '2fa-enrolment-required');
      expectProblem(
        await client.request('PATCH', '/api/v1/organisation', { requireAdmin2fa: false }),
        403,
        '2fa-enrolment-required',
      );
      expect((await client.get('/api/v1/auth/csrf')).statusCode).toBe(200);
      expect((await client.get('/api/v1/auth/2fa')).json()).toMatchObject({ enabled: false });

      // Other roles, and the organisation's API keys, are not affected.
      const analystClient = account.client();
      await analystClient.login(analyst.email);
      expect((await analystClient.get('/api/v1/me')).statusCode).toBe(200);
      const { key } = await account.platform.services.apiKeyService.create({
        orgName: org.name,
        name: 'automation',
        role: 'admin',
      });
      const byKey = await account.app.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(byKey.statusCode, byKey.body).toBe(200);

      await enableTotp(account, client);
      expect((await client.get('/api/v1/users')).statusCode).toBe(200);
      expect((await client.get('/api/v1/me')).json()).toMatchObject({
        twoFactor: { enabled: true, required: true },
      });
    });

    it('leaves admins of organisations without the requirement alone', async () => {
      const org = await account.createOrg();
      const admin = await account.createUser(org.id, 'admin');
      const client = account.client();
      await client.login(admin.email);
      expect((await client.get('/api/v1/users')).statusCode).toBe(200);
    });
  },
);
