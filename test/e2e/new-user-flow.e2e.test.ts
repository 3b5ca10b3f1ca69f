import { mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';

const adminPassword = 'a newsroom admin passphrase';
const analystPassword = 'an analyst passphrase of some length';

/** What a browser does: keeps the cookie, sends Origin and the CSRF token on state-changing requests. */
class Browser {
  private cookie: string | null = null;
  csrfToken: string | null = null;

  constructor(private readonly baseUrl: string) {}

  async send(
    method: string,
    path: string,
    body?: object | FormData,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET') {
      headers.origin = this.baseUrl;
      if (this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    }
    if (body && !(body instanceof FormData)) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body ? { body: body instanceof FormData ? body : JSON.stringify(body) } : {}),
    });
    const setCookie = response.headers.getSetCookie()[0];
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? null;
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (typeof json.csrfToken === 'string') this.csrfToken = json.csrfToken;
    return { status: response.status, json };
  }

  login(email: string, password: string) {
    return this.send('POST', '/api/v1/auth/login', { email, password });
  }
}

describe('a new deployment used as a newsroom would: first admin, 2FA, keys, an invited analyst', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-accounts-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0' };
  const clip = join(dir, 'clip.mp4');
  let server: RunningGuardian;
  let baseUrl: string;

  beforeAll(async () => {
    server = await startGuardian('serve', env);
    baseUrl = server.url ?? '';
    for (const org of ['Newsroom', 'Rival Desk'])
      expect((await runGuardian(['org', 'create', org], env)).code).toBe(0);
    const admins: [string, string][] = [
      ['admin@newsroom.test', 'Newsroom'],
      ['admin@rival.test', 'Rival Desk'],
    ];
    for (const [email, org] of admins) {
      const created = await runGuardian(
        ['user', 'create', '--email', email, '--org', org, '--role', 'admin'],
        env,
        {
          input: `${adminPassword}\n`,
        },
      );
      expect(created.code, created.stderr).toBe(0);
    }
    const viewer = await runGuardian(
      ['user', 'create', '--email', 'viewer@newsroom.test', '--org', 'Newsroom', '--role', 'viewer'],
      env,
      {
        input: `${adminPassword}\n`,
      },
    );
    expect(viewer.code, viewer.stderr).toBe(0);
    await generateClip(dir, { name: 'clip', seconds: 3, size: '320x240', fps: 25 });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes from CLI admin to an analyst upload that other organisations cannot see', async () => {
    const admin = new Browser(baseUrl);
    expect((await admin.login('admin@newsroom.test', adminPassword)).json.secondFactorRequired).toBe(false);

    const enrolled = await admin.send('POST', '/api/v1/auth/2fa/enrol', { password: adminPassword });
    expect(enrolled.status).toBe(200);
    const secret = String(enrolled.json.secret);
    const confirmed = await admin.send('POST', '/api/v1/auth/2fa/confirm', {
      code: await generate({ secret }),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.recoveryCodes).toHaveLength(10);
    expect((await admin.send('POST', '/api/v1/auth/logout')).status).toBe(204);

    const again = new Browser(baseUrl);
    expect((await again.login('admin@newsroom.test', adminPassword)).json.secondFactorRequired).toBe(true);
    expect((await again.send('GET', '/api/v1/users')).status).toBe(401);
    // The next time step: the confirmation already used this one, and a code is accepted once.
    const nextCode = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    expect((await again.send('POST', '/api/v1/auth/login/2fa', { code: nextCode })).status).toBe(200);

    const key = await again.send('POST', '/api/v1/api-keys', { name: 'ingest robot', role: 'analyst' });
    expect(key.status).toBe(201);
    const apiKey = String(key.json.key);

    const invited = await again.send('POST', '/api/v1/users/invites', {
      email: 'analyst@newsroom.test',
      role: 'analyst',
    });
    expect(invited.status).toBe(201);
    // Without SMTP the inviter gets the link to pass on; the outbox API shows it redacted.
    const token = /#token=([A-Za-z0-9_-]{43})$/.exec(String(invited.json.link))?.[1];
    expect(token).toBeDefined();
    const outbox = await again.send('GET', '/api/v1/outbox');
    const messages = outbox.json.messages as { to: string; body: string }[];
    const inviteMail = messages.find((message) => message.to === 'analyst@newsroom.test');
    expect(inviteMail?.body).toContain('#token=[redacted]');
    expect(
      (
        await new Browser(baseUrl).send('POST', '/api/v1/auth/invites/accept', {
          token,
          password: analystPassword,
        })
      ).status,
    ).toBe(201);

    const analyst = new Browser(baseUrl);
    expect((await analyst.login('analyst@newsroom.test', analystPassword)).status).toBe(200);
    const form = new FormData();
    form.set('file', await openAsBlob(clip), 'clip.mp4');
    const uploaded = await analyst.send('POST', '/api/v1/media', form);
    expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
    const mediaId = String(uploaded.json.id);

    const byKey = await fetch(`${baseUrl}/api/v1/media/${mediaId}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(byKey.status).toBe(200);

    const rival = new Browser(baseUrl);
    expect((await rival.login('admin@rival.test', adminPassword)).status).toBe(200);
    const foreign = await rival.send('GET', `/api/v1/media/${mediaId}`);
    expect(foreign.status).toBe(404);
    expect(foreign.json.code).toBe('not-found');

    const viewer = new Browser(baseUrl);
    expect((await viewer.login('viewer@newsroom.test', adminPassword)).status).toBe(200);
    expect((await viewer.send('GET', `/api/v1/media/${mediaId}`)).status).toBe(200);
    const refused = await viewer.send('POST', '/api/v1/media', form);
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('forbidden');
  });
});
