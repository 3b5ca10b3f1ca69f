import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import { goodPassword, login, openAccountsHarness, someIp, type AccountsHarness } from './harness.js';

function setCookieHeader(response: { headers: Record<string, unknown> }): string {
  const header = response.headers['set-cookie'];
  return Array.isArray(header) ? header.join('\n') : String(header);
}

describe('session cookie attributes', () => {
  let database: TestDatabase;
  let production: AccountsHarness;
  let development: AccountsHarness;
  let email: string;

  beforeAll(async () => {
    const pglite = databaseImplementations().find((implementation) => implementation.name === 'pglite');
    database = await (pglite ?? { open: () => Promise.reject(new Error('no PGlite')) }).open();
    production = await openAccountsHarness(database, { production: true });
    development = await openAccountsHarness(database, { production: false });
    const org = await production.createOrg();
    email = (await production.createUser(org.id, 'analyst')).email;
  });

  afterAll(async () => {
    await production?.close();
    await development?.close();
    await database?.destroy();
  });

  it('in production: __Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain — even over plain http', async () => {
    const session = await login(production.app, email);
    expect(session.cookieName).toBe('__Host-guardian_session');
    const [cookie] = session.response.cookies;
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.domain).toBeUndefined();
    const header = setCookieHeader(session.response);
    expect(header).toMatch(
      /^__Host-guardian_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
  });

  it('in production a cookie under the relaxed name is not accepted', async () => {
    const session = await login(production.app, email);
    const relaxed = await production.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: `guardian_session=${session.cookie}` },
    });
    expect(relaxed.statusCode).toBe(401);
    const proper = await production.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { cookie: `__Host-guardian_session=${session.cookie}` },
    });
    expect(proper.statusCode).toBe(200);
  });

  it('in development over plain http on loopback: guardian_session without Secure, still HttpOnly and Lax', async () => {
    const response = await development.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: someIp(),
      payload: { email, password: goodPassword },
    });
    expect(response.statusCode).toBe(200);
    const header = setCookieHeader(response);
    expect(header).toMatch(/^guardian_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('logout clears the cookie with the same attributes', async () => {
    const session = await login(production.app, email);
    const response = await production.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: {
        cookie: `${session.cookieName}=${session.cookie}`,
        origin: 'http://localhost',
        'x-csrf-token': session.csrfToken,
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.cookies).toEqual([
      expect.objectContaining({
        name: '__Host-guardian_session',
        value: '',
        maxAge: 0,
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      }),
    ]);
  });
});
