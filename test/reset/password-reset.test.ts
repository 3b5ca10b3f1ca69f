import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../authorization/route-matrix.js';
import {
  enableTotp,
  openAccountApp,
  strongPassword,
  totpCode,
  type AccountApp,
  type Client,
} from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const newPassword = 'a completely new passphrase';

/** The token of the reset link in a received mail. */
function tokenIn(text: string): string {
  const match = /https:\/\/guardian\.example\.org\/reset-password#token=([A-Za-z0-9_-]{43})/.exec(text);
  if (!match?.[1]) throw new Error(`no reset link in:\n${text}`);
  return match[1];
}

describeEachImplementation('password reset over SMTP', databaseImplementations(), (implementation) => {
  let sink: SmtpSink;
  let account: AccountApp;
  let orgId: string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    account = await openAccountApp(implementation, { SMTP_URL: sink.url });
    orgId = (await account.createOrg()).id;
  });

  afterAll(async () => {
    await account?.close();
    await sink?.close();
  });

  const requestReset = (client: Client, email: string) =>
    client.post('/api/v1/auth/password-reset', { email });

  async function mailedToken(email: string): Promise<string> {
    const mail = await sink.waitFor((message) => message.to.includes(email));
    expect(mail.subject).toBe('Reset your SecureAI Guardian password');
    return tokenIn(mail.text);
  }

  it('mails a single-use link that sets the password, ends every session, and keeps 2FA', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const first = account.client();
    await first.login(user.email);
    const { secret } = await enableTotp(account, first);
    const second = account.client();
    await second.login(user.email);
    expect(
      (await second.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock) }))
        .statusCode,
    ).toBe(200);
    account.clock.advanceSeconds(30);

    const stranger = account.client();
    const requested = await requestReset(stranger, user.email.toUpperCase());
    expect(requested.statusCode).toBe(202);
    const token = await mailedToken(user.email);
    const stored = await account.platform.database.db
      .selectFrom('one_time_tokens')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(token);
    expect(stored.expires_at.getTime() - stored.created_at.getTime()).toBe(30 * 60_000);

    // A refused password leaves the link usable.
    expectProblem(
      await stranger.post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'password1' }),
      400,
      'password-too-common',
    );
    const confirmed = await stranger.post('/api/v1/auth/password-reset/confirm', { token, newPassword });
    expect(confirmed.statusCode, confirmed.body).toBe(204);
    expect(confirmed.cookies).toEqual([]); // not signed in

    expectProblem(await first.get('/api/v1/me'), 401);
    expectProblem(await second.get('/api/v1/me'), 401);
    expectProblem(
      await stranger.post('/api/v1/auth/password-reset/confirm', { token, newPassword }),
      410,
      'token-expired',
    );

    expectProblem(await account.client().login(user.email), 401, 'invalid-credentials');
    const again = account.client();
    expect((await again.login(user.email, newPassword)).json()).toMatchObject({ secondFactorRequired: true });
    expectProblem(await again.get('/api/v1/me'), 401, 'second-factor-required');
    expect(
      (await again.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock) }))
        .statusCode,
    ).toBe(200);

    await account.settle();
    expect(await account.auditActions(orgId)).toEqual(
      expect.arrayContaining(['auth.password-reset.request:success', 'auth.password-reset.complete:success']),
    );
  });

  it('answers the same for an unknown address, and sends nothing', async () => {
    const user = await account.createUser(orgId, 'viewer');
    const known = await requestReset(account.client(), user.email);
    const unknown = await requestReset(account.client(), 'nobody-here@example.org');
    expect(unknown.statusCode).toBe(known.statusCode);
    expect(unknown.body).toBe(known.body);
    expect(unknown.headers['content-type']).toBe(known.headers['content-type']);
    await mailedToken(user.email);
    await account.settle();
    expect(sink.received.some((mail) => mail.to.includes('nobody-here@example.org'))).toBe(false);
    const unknownRows = await account.platform.database.db
      .selectFrom('one_time_tokens')
      .select('id')
      .where('email', '=', 'nobody-here@example.org')
      .execute();
    expect(unknownRows).toEqual([]);
  });

  it('answers before touching the database, so its timing cannot depend on the account', async () => {
    const user = await account.createUser(orgId, 'viewer');
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let signalLocked = () => {};
    const locked = new Promise<void>((resolve) => (signalLocked = resolve));
    // Nothing can read the users table (nor, on PGlite, the database at all) until released.
    const holder = account.platform.database.db.transaction().execute(async (trx) => {
      await sql`lock table users in access exclusive mode`.execute(trx);
      signalLocked();
      await released;
    });
    await locked;
    try {
      for (const email of [user.email, 'ghost@example.org']) {
        const response = await Promise.race([
          requestReset(account.client(), email),
          sleep(5000).then(() => null),
        ]);
        expect(response?.statusCode, 'answered while the database was locked').toBe(202);
      }
      expect(sink.received.some((mail) => mail.to.includes(user.email))).toBe(false);
    } finally {
      release();
      await holder;
    }
    await mailedToken(user.email); // the lookup, token and mail happen once the lock is gone
  });

  it('expires the link after 30 minutes', async () => {
    const user = await account.createUser(orgId, 'viewer');
    await requestReset(account.client(), user.email);
    const token = await mailedToken(user.email);
    account.clock.advanceMinutes(30);
    expectProblem(
      await account.client().post('/api/v1/auth/password-reset/confirm', { token, newPassword }),
      410,
      'token-expired',
    );
    expect((await account.client().login(user.email)).statusCode).toBe(200); // the old password still works
  });

  it('refuses a malformed or unknown token with 400', async () => {
    const client = account.client();
    expectProblem(
      await client.post('/api/v1/auth/password-reset/confirm', { token: 'x'.repeat(43), newPassword }),
      400,
      'invalid-token',
    );
    expectProblem(
      await client.post('/api/v1/auth/password-reset/confirm', { token: 'short', newPassword }),
      400,
      'invalid-token',
    );
    expectProblem(
      await client.post('/api/v1/auth/password-reset/confirm', {
        token: 'a'.repeat(43),
        newPassword,
        userId: orgId,
      }),
      400,
      'validation-failed',
    );
  });

  it('sends at most one mail per account every two minutes, and a new link retires none but itself', async () => {
    const user = await account.createUser(orgId, 'viewer');
    // At once, from two addresses: the check and the new token happen under a lock on the account.
    await Promise.all([
      requestReset(account.client(), user.email),
      requestReset(account.client(), user.email),
    ]);
    await account.settle();
    expect(sink.received.filter((mail) => mail.to.includes(user.email))).toHaveLength(1);
    account.clock.advanceMinutes(3);
    await requestReset(account.client(), user.email);
    await account.settle();
    const mails = sink.received.filter((mail) => mail.to.includes(user.email));
    expect(mails).toHaveLength(2);
    const [older, newer] = mails.map((mail) => tokenIn(mail.text)) as [string, string];
    const client = account.client();
    expect(
      (await client.post('/api/v1/auth/password-reset/confirm', { token: newer, newPassword })).statusCode,
    ).toBe(204);
    // Completing one reset retires the account's other outstanding links.
    expectProblem(
      await client.post('/api/v1/auth/password-reset/confirm', { token: older, newPassword }),
      410,
    );
    expect((await account.client().login(user.email, strongPassword)).statusCode).toBe(401);
  });
});
