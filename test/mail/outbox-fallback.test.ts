import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startAdminSocket } from '../../src/app/admin-socket.js';
import { main } from '../../src/cli/main.js';
import { expectProblem } from '../authorization/route-matrix.js';
import { openAccountApp, type AccountApp, type Client } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation, testLogger } from '../helpers/databases.js';

interface OutboxBody {
  delivery: string;
  messages: { to: string; subject: string; body: string; sentAt: string | null }[];
}

describeEachImplementation('the outbox without SMTP', databaseImplementations(), (implementation) => {
  let account: AccountApp;
  let org: { id: string; name: string };
  let admin: Client;

  beforeAll(async () => {
    account = await openAccountApp(implementation);
    org = await account.createOrg('Outbox');
    admin = account.client();
    await admin.login((await account.createUser(org.id, 'admin')).email);
  });

  afterAll(async () => {
    await account?.close();
  });

  it('keeps invitations for the admins of the organisation to read and pass on', async () => {
    const invited = await admin.post('/api/v1/users/invites', { email: 'held@example.org', role: 'viewer' });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toMatchObject({ delivery: 'outbox' });

    const listed = await admin.get('/api/v1/outbox');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    const body = listed.json<OutboxBody>();
    expect(body.delivery).toBe('outbox');
    const [message] = body.messages;
    expect(message).toMatchObject({ to: 'held@example.org', sentAt: null });
    const token = /accept-invite#token=([A-Za-z0-9_-]{43})/.exec(message?.body ?? '')?.[1];
    expect(token).toBeDefined();

    const accepted = await account
      .client()
      .post('/api/v1/auth/invites/accept', { token, password: 'a long invitee passphrase' });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.json()).toMatchObject({ orgId: org.id, role: 'viewer' });
  });

  it('holds password-reset mail too; other organisations and other roles see none of it', async () => {
    const user = await account.createUser(org.id, 'analyst');
    expect(
      (await account.client().post('/api/v1/auth/password-reset', { email: user.email })).statusCode,
    ).toBe(202);
    await account.settle();
    const messages = (await admin.get('/api/v1/outbox')).json<OutboxBody>().messages;
    expect(messages.find((message) => message.to === user.email)?.body).toMatch(/reset-password#token=/);

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
      expect(printed.join('\n')).toMatch(/To: held@example\.org {2}\(organisation "Outbox /);
      expect(printed.join('\n')).toMatch(/accept-invite#token=[A-Za-z0-9_-]{43}/);
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
