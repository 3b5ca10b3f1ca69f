import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { enableTotp, openAccountApp, totpCode, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const canaryPassword = 'canary passphrase 7c1e9f';
const canaryNewPassword = 'canary new passphrase 5d2a8b';

describeEachImplementation(
  'mail, 2FA and reset secrets in logs',
  databaseImplementations(),
  (implementation) => {
    const lines: string[] = [];
    let sink: SmtpSink;
    let account: AccountApp;

    beforeAll(async () => {
      sink = await startSmtpSink();
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      account = await openAccountApp(
        implementation,
        { SMTP_URL: sink.url },
        createLogger({ LOG_LEVEL: 'trace' }, destination),
      );
    });

    afterAll(async () => {
      await account?.close();
      await sink?.close();
    });

    it('never logs passwords, TOTP secrets or codes, recovery codes, reset or invite tokens, API keys or session tokens', async () => {
      const org = await account.createOrg();
      const user = await account.createUser(org.id, 'admin', canaryPassword);
      const client = account.client();
      await client.login(user.email, canaryPassword);
      const { secret, recoveryCodes } = await enableTotp(account, client, canaryPassword);
      const code = await totpCode(secret, account.clock);
      const sessionToken = client.cookie?.value ?? '';
      const csrfToken = client.csrfToken ?? '';
      const created = await client.post('/api/v1/api-keys', { name: 'canary key', role: 'analyst' });
      expect(created.statusCode, created.body).toBe(201);
      const apiKey = created.json<{ key: string }>().key;
      const usedKey = await account.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(usedKey.statusCode).toBeLessThan(500);
      expect(
        (await client.post('/api/v1/users/invites', { email: 'canary@example.org', role: 'viewer' }))
          .statusCode,
      ).toBe(201);
      const invite = await sink.waitFor((mail) => mail.to.includes('canary@example.org'));
      const inviteToken = /#token=([A-Za-z0-9_-]{43})/.exec(invite.text)?.[1] ?? '';
      await account
        .client()
        .post('/api/v1/auth/invites/accept', { token: inviteToken, password: canaryPassword });

      await account.client().post('/api/v1/auth/password-reset', { email: user.email });
      const reset = await sink.waitFor((mail) => mail.to.includes(user.email));
      const resetToken = /#token=([A-Za-z0-9_-]{43})/.exec(reset.text)?.[1] ?? '';
      await account
        .client()
        .post('/api/v1/auth/password-reset/confirm', { token: resetToken, newPassword: canaryNewPassword });
      const again = account.client();
      await again.login(user.email, canaryNewPassword);
      await again.post('/api/v1/auth/login/2fa', { code });
      await again.post('/api/v1/auth/login/2fa', { recoveryCode: recoveryCodes[0] });
      await account.settle();

      const logged = lines.join('');
      expect(logged).toContain('/api/v1/auth/password-reset/confirm'); // the log did capture the requests
      const secrets = [
        canaryPassword,
        canaryNewPassword,
        secret,
        code,
        inviteToken,
        resetToken,
        ...recoveryCodes,
        apiKey,
        sessionToken,
        csrfToken,
      ];
      for (const value of secrets) {
        expect(value.length).toBeGreaterThan(5);
        expect(logged).not.toContain(value);
      }
    });
  },
);
