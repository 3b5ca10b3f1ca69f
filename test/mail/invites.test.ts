import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { expectProblem } from '../authorization/route-matrix.js';
import { openAccountApp, strongPassword, type AccountApp, type Client } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const inviteePassword = 'a long invitee passphrase';

function inviteTokenIn(text: string): string {
  const match = /https:\/\/guardian\.example\.org\/accept-invite#token=([A-Za-z0-9_-]{43})/.exec(text);
  if (!match?.[1]) throw new Error(`no invite link in:\n${text}`);
  return match[1];
}

describeEachImplementation('invitations over SMTP', databaseImplementations(), (implementation) => {
  let sink: SmtpSink;
  let account: AccountApp;
  let org: { id: string; name: string };
  let adminEmail: string;
  let admin: Client;

  beforeAll(async () => {
    sink = await startSmtpSink();
    account = await openAccountApp(implementation, { SMTP_URL: sink.url });
    org = await account.createOrg('Newsroom');
    adminEmail = (await account.createUser(org.id, 'admin')).email;
  });

  // A fresh session per test: one of them moves the clock past any session's lifetime.
  beforeEach(async () => {
    admin = account.client();
    await admin.login(adminEmail);
  });

  afterAll(async () => {
    await account?.close();
    await sink?.close();
  });

  async function invite(email: string, role: string) {
    const response = await admin.post('/api/v1/users/invites', { email, role });
    expect(response.statusCode, response.body).toBe(201);
    const mail = await sink.waitFor((message) => message.to.includes(email.toLowerCase()));
    return { response, mail, token: inviteTokenIn(mail.text) };
  }

  it('creates the account in the inviter organisation with the invited role, once', async () => {
    const email = 'New.Analyst@Example.org';
    const { response, mail, token } = await invite(email, 'analyst');
    expect(response.json()).toMatchObject({
      email: 'new.analyst@example.org',
      role: 'analyst',
      delivery: 'smtp',
    });
    // With SMTP the link goes to the invitee's mailbox alone.
    expect(response.json()).not.toHaveProperty('link');
    const expiresAt = Date.parse(response.json<{ expiresAt: string }>().expiresAt);
    expect(expiresAt - account.clock.now().getTime()).toBe(72 * 3600_000);
    expect(mail.subject).toBe(`You are invited to ${org.name} on SecureAI Guardian`);
    expect(mail.text).toContain('as an analyst');

    const invitee = account.client();
    expectProblem(
      await invitee.post('/api/v1/auth/invites/accept', { token, password: 'short' }),
      400,
      'password-too-short',
    );
    const accepted = await invitee.post('/api/v1/auth/invites/accept', { token, password: inviteePassword });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect(accepted.json()).toMatchObject({
      email: 'new.analyst@example.org',
      role: 'analyst',
      orgId: org.id,
    });
    expect(accepted.cookies).toEqual([]);

    expectProblem(
      await account.client().post('/api/v1/auth/invites/accept', { token, password: inviteePassword }),
      410,
      'token-expired',
    );
    const signedIn = account.client();
    expect((await signedIn.login(email, inviteePassword)).statusCode).toBe(200);
    expect((await signedIn.get('/api/v1/me')).json()).toMatchObject({
      user: { role: 'analyst', orgId: org.id },
      organisation: { id: org.id },
    });
    await account.settle();
    expect(await account.auditActions(org.id)).toEqual(
      expect.arrayContaining(['user.invite:success', 'user.invite.accept:success']),
    );
  });

  it('shows admins what was sent, and what SMTP has not taken yet, only with the link redacted', async () => {
    const delivered = await invite('delivered@example.org', 'viewer');
    sink.refuseNext(1);
    const refused = await admin.post('/api/v1/users/invites', {
      email: 'refused@example.org',
      role: 'viewer',
    });
    expect(refused.statusCode, refused.body).toBe(201);
    await account.settle();

    const listed = await admin.get('/api/v1/outbox');
    expect(listed.statusCode, listed.body).toBe(200);
    const { messages } = listed.json<{
      messages: { to: string; body: string; sentAt: string | null; lastError: string | null }[];
    }>();
    const sent = messages.find((message) => message.to === 'delivered@example.org');
    expect(sent?.sentAt).not.toBeNull();
    expect(sent?.body).toContain('https://guardian.example.org/accept-invite#token=[redacted]');
    const pending = messages.find((message) => message.to === 'refused@example.org');
    expect(pending).toMatchObject({ sentAt: null, lastError: expect.stringMatching(/451/) });
    expect(pending?.body).toContain('https://guardian.example.org/accept-invite#token=[redacted]');
    expect(listed.body).not.toContain(delivered.token);
    expect(listed.body).not.toMatch(/#token=[A-Za-z0-9_-]{43}/);
  });

  it('expires after 72 hours, and a new invite replaces the old link', async () => {
    const first = await invite('late@example.org', 'viewer');
    const second = await invite('late@example.org', 'auditor');
    expectProblem(
      await account
        .client()
        .post('/api/v1/auth/invites/accept', { token: first.token, password: inviteePassword }),
      410,
    );
    account.clock.advanceMinutes(72 * 60);
    expectProblem(
      await account
        .client()
        .post('/api/v1/auth/invites/accept', { token: second.token, password: inviteePassword }),
      410,
      'token-expired',
    );
  });

  it('only admins invite, only to their own organisation, with no extra fields', async () => {
    const analyst = account.client();
    await analyst.login((await account.createUser(org.id, 'analyst')).email);
    expectProblem(
      await analyst.post('/api/v1/users/invites', { email: 'x@example.org', role: 'viewer' }),
      403,
    );
    const other = await account.createOrg('Elsewhere');
    expectProblem(
      await admin.post('/api/v1/users/invites', { email: 'x@example.org', role: 'viewer', orgId: other.id }),
      400,
      'validation-failed',
    );
    expectProblem(await admin.post('/api/v1/users/invites', { email: 'x@example.org', role: 'owner' }), 400);
    expectProblem(
      await account.client().post('/api/v1/users/invites', { email: 'x@example.org', role: 'viewer' }),
      401,
    );
  });

  it('refuses to invite a member again; an address taken elsewhere fails only at acceptance', async () => {
    const member = await account.createUser(org.id, 'viewer');
    expectProblem(
      await admin.post('/api/v1/users/invites', { email: member.email, role: 'analyst' }),
      409,
      'already-a-member',
    );

    const other = await account.createOrg('Elsewhere');
    const outsider = await account.createUser(other.id, 'viewer');
    const { token } = await invite(outsider.email, 'analyst');
    const response = await account
      .client()
      .post('/api/v1/auth/invites/accept', { token, password: inviteePassword });
    expectProblem(response, 409, 'conflict');
    // The refused acceptance left the token unspent, and the outsider where they were.
    const still = account.client();
    expect((await still.login(outsider.email, strongPassword)).json()).toMatchObject({
      user: { orgId: other.id },
    });
  });
});
