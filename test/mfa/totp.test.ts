import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectProblem } from '../authorization/route-matrix.js';
import {
  enableTotp,
  openAccountApp,
  strongPassword,
  totpCode,
  type AccountApp,
} from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';

describeEachImplementation('TOTP two-factor authentication', databaseImplementations(), (implementation) => {
  let account: AccountApp;
  let orgId: string;

  beforeAll(async () => {
    account = await openAccountApp(implementation);
    orgId = (await account.createOrg()).id;
  });

  afterAll(async () => {
    await account?.close();
  });

  it('enrols with the password, keeps the secret sealed, and confirms with a code from the app', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const client = account.client();
    expect((await client.login(user.email)).json()).toMatchObject({ secondFactorRequired: false });

    expectProblem(await client.post('/api/v1/auth/2fa/enrol', { password: 'not my password' }), 401);
    const enrolled = await client.post('/api/v1/auth/2fa/enrol', { password: strongPassword });
    expect(enrolled.statusCode, enrolled.body).toBe(200);
    const { secret, otpauthUri } = enrolled.json<{ secret: string; otpauthUri: string }>();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/SecureAI Guardian:${user.email}`);
    expect(uri.searchParams.get('issuer')).toBe('SecureAI Guardian');
    expect(uri.searchParams.get('secret')).toBe(secret);

    const stored = await account.platform.database.db
      .selectFrom('user_totp')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(stored.confirmed_at).toBeNull();
    expect(Buffer.from(stored.secret_sealed).includes(Buffer.from(secret))).toBe(false);
    expect((await client.get('/api/v1/auth/2fa')).json()).toEqual({
      enabled: false,
      pendingConfirmation: true,
      recoveryCodesLeft: 0,
    });

    expectProblem(
      await client.post('/api/v1/auth/2fa/confirm', { code: await totpCode(secret, account.clock, 300) }),
      400,
      'invalid-second-factor',
    );
    const confirmed = await client.post('/api/v1/auth/2fa/confirm', {
      code: await totpCode(secret, account.clock),
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const { recoveryCodes } = confirmed.json<{ recoveryCodes: string[] }>();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);

    const hashes = await account.platform.database.db
      .selectFrom('recovery_codes')
      .select('code_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(hashes).toHaveLength(10);
    for (const { code_hash } of hashes) {
      expect(code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(recoveryCodes.some((code) => code_hash.includes(code.replaceAll('-', '')))).toBe(false);
    }
    expect((await client.get('/api/v1/auth/2fa')).json()).toEqual({
      enabled: true,
      pendingConfirmation: false,
      recoveryCodesLeft: 10,
    });
    expectProblem(
      await client.post('/api/v1/auth/2fa/enrol', { password: strongPassword }),
      409,
      '2fa-already-enabled',
    );
    expect(await account.auditActions(orgId)).toEqual(
      expect.arrayContaining([
        'auth.2fa.enrol:success',
        'auth.2fa.enable:failure',
        'auth.2fa.enable:success',
      ]),
    );
  });

  it('asks for the second step at login, accepts a code once, and issues a new session token', async () => {
    const user = await account.createUser(orgId, 'viewer');
    const setup = account.client();
    await setup.login(user.email);
    const { secret } = await enableTotp(account, setup);

    const client = account.client();
    const first = await client.login(user.email);
    expect(first.json()).toMatchObject({ secondFactorRequired: true, user: { id: user.id } });
    const pendingCookie = client.cookie;
    expectProblem(await client.get('/api/v1/me'), 401, 'second-factor-required');

    const code = await totpCode(secret, account.clock);
    const second = await client.post('/api/v1/auth/login/2fa', { code });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({
      secondFactorRequired: false,
      user: { id: user.id, role: 'viewer' },
    });
    expect(client.cookie?.value).not.toBe(pendingCookie?.value);
    expect((await client.get('/api/v1/me')).json()).toMatchObject({ twoFactor: { enabled: true } });

    // The same code again, within its 30 seconds, on another login: refused.
    const replay = account.client();
    await replay.login(user.email);
    expectProblem(await replay.post('/api/v1/auth/login/2fa', { code }), 401, 'invalid-second-factor');
    // An earlier step than the last accepted one is refused too, though inside the window.
    account.clock.advanceSeconds(30);
    expectProblem(
      await replay.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock, -60) }),
      401,
      'invalid-second-factor',
    );
    // One step of drift either way is accepted.
    expect(
      (await replay.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock, 30) }))
        .statusCode,
    ).toBe(200);
    expect(await account.auditActions(orgId)).toEqual(
      expect.arrayContaining(['auth.login.2fa:success', 'auth.login.2fa:failure']),
    );
  });

  it('refuses codes two steps away', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const client = account.client();
    await client.login(user.email);
    const { secret } = await enableTotp(account, client);
    const late = account.client();
    await late.login(user.email);
    for (const offset of [-60, 60]) {
      expectProblem(
        await late.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock, offset) }),
        401,
      );
    }
  });

  it('accepts each recovery code once, at any case and grouping', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const setup = account.client();
    await setup.login(user.email);
    const { recoveryCodes } = await enableTotp(account, setup);
    const [code] = recoveryCodes as [string];

    const client = account.client();
    await client.login(user.email);
    const used = await client.post('/api/v1/auth/login/2fa', {
      recoveryCode: code.toUpperCase().replaceAll('-', ' '),
    });
    expect(used.statusCode, used.body).toBe(200);
    expect((await client.get('/api/v1/auth/2fa')).json()).toMatchObject({ recoveryCodesLeft: 9 });

    const again = account.client();
    await again.login(user.email);
    expectProblem(
      await again.post('/api/v1/auth/login/2fa', { recoveryCode: code }),
      401,
      'invalid-second-factor',
    );
    expect((await again.post('/api/v1/auth/login/2fa', { recoveryCode: recoveryCodes[1] })).statusCode).toBe(
      200,
    );
  });

  it('throttles second-factor guesses even when the password keeps being right', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const setup = account.client();
    await setup.login(user.email);
    const { secret } = await enableTotp(account, setup);
    const wrong = async () =>
      ((Number(await totpCode(secret, account.clock)) + 500_000) % 1_000_000).toString().padStart(6, '0');

    const client = account.client();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await client.login(user.email); // a right password must not reset the count of wrong codes
      expectProblem(await client.post('/api/v1/auth/login/2fa', { code: await wrong() }), 401);
    }
    await client.login(user.email);
    const throttled = await client.post('/api/v1/auth/login/2fa', {
      code: await totpCode(secret, account.clock),
    });
    expectProblem(throttled, 429, 'too-many-attempts');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);

    account.clock.advanceSeconds(Number(throttled.headers['retry-after']));
    expect(
      (await client.post('/api/v1/auth/login/2fa', { code: await totpCode(secret, account.clock) }))
        .statusCode,
    ).toBe(200);
  });

  it('disables TOTP and replaces recovery codes only with the password and a code', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const client = account.client();
    await client.login(user.email);
    const { secret, recoveryCodes } = await enableTotp(account, client);

    const code = await totpCode(secret, account.clock);
    expectProblem(
      await client.post('/api/v1/auth/recovery-codes', { password: 'wrong password', code }),
      401,
      'invalid-credentials',
    );
    expectProblem(await client.post('/api/v1/auth/recovery-codes', { password: strongPassword }), 400);
    const regenerated = await client.post('/api/v1/auth/recovery-codes', { password: strongPassword, code });
    expect(regenerated.statusCode, regenerated.body).toBe(200);
    const fresh = regenerated.json<{ recoveryCodes: string[] }>().recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh.some((entry) => recoveryCodes.includes(entry))).toBe(false);

    expectProblem(
      await client.post('/api/v1/auth/2fa/disable', {
        password: strongPassword,
        recoveryCode: recoveryCodes[0],
      }),
      401,
      'invalid-second-factor',
    );
    const disabled = await client.post('/api/v1/auth/2fa/disable', {
      password: strongPassword,
      recoveryCode: fresh[0],
    });
    expect(disabled.statusCode, disabled.body).toBe(204);
    expect((await client.get('/api/v1/auth/2fa')).json()).toMatchObject({ enabled: false });

    const later = account.client();
    expect((await later.login(user.email)).json()).toMatchObject({ secondFactorRequired: false });
    expect(await account.auditActions(orgId)).toEqual(
      expect.arrayContaining([
        'auth.2fa.recovery-codes.regenerate:success',
        'auth.2fa.disable:success',
        'auth.2fa.disable:failure',
      ]),
    );
  });

  it('turning TOTP on ends the other sessions, opened without it', async () => {
    const user = await account.createUser(orgId, 'analyst');
    const other = account.client();
    await other.login(user.email);
    const client = account.client();
    await client.login(user.email);
    await enableTotp(account, client);
    expect((await client.get('/api/v1/me')).statusCode).toBe(200);
    expectProblem(await other.get('/api/v1/me'), 401);
  });

  it('API keys cannot reach the personal 2FA routes', async () => {
    const org = await account.createOrg('Keys');
    const { key } = await account.platform.services.apiKeyService.create({
      orgName: org.name,
      name: 'ci',
      role: 'admin',
    });
    const response = await account.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enrol',
      headers: { authorization: `Bearer ${key}` },
      payload: { password: strongPassword },
    });
    expectProblem(response, 403);
  });
});
