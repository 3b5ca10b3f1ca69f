import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startAdminSocket } from '../../src/app/admin-socket.js';
import { main } from '../../src/cli/main.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { openAccountApp, type AccountApp, type Client } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';

/** A one-time link with its token still in it: never in anything the API returns. */
const liveTokenLink = /#token=[A-Za-z0-9_-]{43}/;

interface OutboxBody {
  delivery: string;
  messages: { to: string; subject: string; body: string; sentAt: string | null }[];
}

describeEachImplementation('the outbox without SMTP', databaseImplementations(), (implementation) => {
  let account: AccountApp;
  let org: { id: string; name: string };
  let admin: Client;
  /** The analyst whose reset mail the second test requests and the third completes from the CLI. */
  let resetFor: { id: string; email: string } | undefined;

  beforeAll(async () => {
    account = await openAccountApp(implementation);
    org = await account.createOrg('Outbox');
    admin = account.client();
    await admin.login((await account.createUser(org.id, 'admin')).email);
  });

  afterAll(async () => {
    await account?.close();
  });

  it('gives the inviting admin the link in the answer; the outbox API shows it redacted', async () => {
    const invited = await admin.post('/api/v1/users/invites', { email: 'held@example.org', role: 'viewer' });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toMatchObject({ delivery: 'outbox' });
    const link = invited.json<{ link?: string }>().link ?? '';
    const token = /^https:\/\/guardian\.example\.org\/accept-invite#token=([A-Za-z0-9_-]{43})$/.exec(
      link,
    )?.[1];
    expect(token, link).toBeDefined();

    const listed = await admin.get('/api/v1/outbox');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    const body = listed.json<OutboxBody>();
    expect(body.delivery).toBe('outbox');
    const [message] = body.messages;
    expect(message).toMatchObject({ to: 'held@example.org', sentAt: null });
    expect(message?.body).toContain('https://guardian.example.org/accept-invite#token=[redacted]');
    expect(listed.body).not.toContain(token);
    expect(listed.body).not.toMatch(liveTokenLink);

    const accepted = await account
      .client()
      .post('/api/v1/auth/invites/accept', { token, password: 'a long invitee passphrase' });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.json()).toMatchObject({ orgId: org.id, role: 'viewer' });
  });

  it('holds password-reset mail with its link redacted; other organisations and roles see none of it', async () => {
    const user = await account.createUser(org.id, 'analyst');
    resetFor = user;
    expect(
      (await account.client().post('/api/v1/auth/password-reset', { email: user.email })).statusCode,
    ).toBe(202);
    await account.settle();
    const listed = await admin.get('/api/v1/outbox');
    const reset = listed.json<OutboxBody>().messages.find((message) => message.to === user.email);
    expect(reset).toMatchObject({ subject: 'Reset your SecureAI Guardian password', sentAt: null });
    expect(reset?.body).toContain('https://guardian.example.org/reset-password#token=[redacted]');
    expect(listed.body).not.toMatch(liveTokenLink);

    const analyst = account.client();
    await analyst.login(user.email);
    expectProblem(await analyst.get('/api/v1/outbox'), 403);
    const otherOrg = await account.createOrg('Other');
    const otherAdmin = account.client();
    await otherAdmin.login((await account.createUser(otherOrg.id, 'admin')).email);
    expect((await otherAdmin.get('/api/v1/outbox')).json<OutboxBody>().messages).toEqual([]);
    expectProblem(await account.client().get('/api/v1/outbox'), 401);
    expectProblem(await admin.get('/api/v1/outbox?limit=1000'), 400);
  });

  it('shows the outbox to the operator with `guardian outbox list`', async () => {
    const { config } = account.platform;
    const socket = await startAdminSocket({
      dataDir: config.DATA_DIR,
      commands: account.platform.managementCommands,
      log: testLogger(),
    });
    const saved = { ...process.env };
    Object.assign(process.env, { DATA_DIR: config.DATA_DIR, LOG_LEVEL: 'silent' });
    if (config.DATABASE_URL) process.env.DATABASE_URL = config.DATABASE_URL;
    const printed: string[] = [];
    const log = vi
      .spyOn(console, 'log')
      .mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      expect(await main(['outbox', 'list', '--org', org.name])).toBe(0);
      const output = printed.join('\n');
      expect(output).toMatch(/To: held@example\.org {2}\(organisation "Outbox /);
      expect(output).toMatch(/accept-invite#token=[A-Za-z0-9_-]{43}/);
      // The host's CLI is the out-of-band channel: the reset link is there in full, and it works.
      const resetToken = /reset-password#token=([A-Za-z0-9_-]{43})/.exec(output)?.[1];
      expect(resetToken, output).toBeDefined();
      const confirmed = await account.client().post('/api/v1/auth/password-reset/confirm', {
        token: resetToken,
        newPassword: 'a new passphrase from the operator',
      });
      expect(confirmed.statusCode, confirmed.body).toBe(204);
      const signedIn = account.client();
      const login = await signedIn.login(resetFor?.email ?? '', 'a new passphrase from the operator');
      expect(login.statusCode, login.body).toBe(200);
      printed.length = 0;
      vi.spyOn(console, 'error').mockImplementation(() => undefined);
      expect(await main(['outbox', 'list', '--org', 'No such organisation'])).toBe(1);
      expect(await main(['outbox', 'send'])).toBe(2);
    } finally {
      vi.restoreAllMocks();
      log.mockRestore();
      process.env = saved;
      await socket.close();
    }
  });
});
