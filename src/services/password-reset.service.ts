import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OneTimeTokenRepository } from '../repositories/one-time-token.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuditLog } from './audit-log.js';
import type { BackgroundWork } from './background-work.js';
import type { Mailer } from './mailer.js';
import { findRedeemableToken, newOneTimeToken, tokenGone, tokenLink } from './one-time-token.js';
import type { PasswordHasher } from './password-hasher.js';
import { assertAcceptablePassword } from './password-policy.js';
import type { ClientInfo } from './session.service.js';
import { normaliseEmail } from './user.service.js';

export const passwordResetTtlMs = 30 * 60_000;
/** One mail per account per this interval at most: the form cannot be used to flood someone's inbox. */
const resendIntervalMs = 2 * 60_000;

/**
 * Password reset by mailed link. The request answers the same whatever the address, before any lookup (the
 * lookup, token and mail happen in the background), so neither the body nor the timing tells whether an
 * account exists. Completing it sets the password through the policy and hasher, retires the user's other
 * reset links and ends every session; it neither signs anyone in nor touches the second factor.
 */
export function createPasswordResetService(deps: {
  db: Kysely<Database>;
  users: UserRepository;
  tokens: OneTimeTokenRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  mailer: Mailer;
  audit: AuditLog;
  background: BackgroundWork;
  publicUrl: string;
  now: () => Date;
}) {
  const { users, tokens, audit, now } = deps;

  async function sendResetLink(rawEmail: string, client: ClientInfo): Promise<void> {
    const user = await users.findByEmail(normaliseEmail(rawEmail));
    const event = {
      orgId: user?.org_id ?? null,
      actor: { type: 'anonymous', id: null } as const,
      action: 'auth.password-reset.request',
      ...(user ? { target: { type: 'user', id: user.id } } : {}),
      ip: client.ip,
      userAgent: client.userAgent,
    };
    if (!user || user.status !== 'active') {
      const reason = user ? 'account-disabled' : 'unknown-account';
      await audit.append({ ...event, outcome: 'failure', details: { reason } });
      return;
    }
    const at = now();
    const { token, tokenHash } = newOneTimeToken();
    const created = await tokens.createResetUnlessRecent(
      {
        purpose: 'password_reset',
        tokenHash,
        orgId: user.org_id,
        userId: user.id,
        email: user.email,
        role: null,
        createdBy: null,
        createdAt: at,
        expiresAt: new Date(at.getTime() + passwordResetTtlMs),
      },
      new Date(at.getTime() - resendIntervalMs),
    );
    if (!created) {
      await audit.append({ ...event, outcome: 'failure', details: { reason: 'too-soon' } });
      return;
    }
    await deps.mailer.send({
      orgId: user.org_id,
      to: user.email,
      subject: 'Reset your SecureAI Guardian password',
      text: resetMailText(tokenLink(deps.publicUrl, '/reset-password', token), deps.publicUrl),
      secrets: [token],
    });
    await audit.append({ ...event, outcome: 'success' });
  }

  return {
    /** Always resolves at once with nothing: what happens next is not the caller's to know. */
    request(email: string, client: ClientInfo): void {
      deps.background.run('password-reset-request', () => sendResetLink(email, client));
    },

    async complete(input: { token: string; newPassword: string }, client: ClientInfo): Promise<void> {
      const found = await findRedeemableToken(tokens, 'password_reset', input.token, now());
      // Checked before the token is spent: a refused password leaves the link usable.
      assertAcceptablePassword(input.newPassword);
      const passwordHash = await deps.hasher.hash(input.newPassword);
      const userId = found.user_id;
      const user = userId ? await users.findById(found.org_id, userId) : null;
      if (!userId || user?.status !== 'active') throw tokenGone();
      const at = now();
      const sessionsEnded = await deps.db.transaction().execute(async (trx) => {
        if (!(await tokens.consume(found.id, at, trx))) throw tokenGone();
        await tokens.retireOutstanding({ purpose: 'password_reset', userId }, at, trx);
        await users.setPasswordHash(userId, passwordHash, at, trx);
        return deps.sessions.revokeAllForUser(userId, at, undefined, trx);
      });
      await audit.append({
        orgId: found.org_id,
        actor: { type: 'anonymous', id: null },
        action: 'auth.password-reset.complete',
        outcome: 'success',
        target: { type: 'user', id: userId },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { sessionsEnded },
      });
    },
  };
}

export type PasswordResetService = ReturnType<typeof createPasswordResetService>;

function resetMailText(link: string, publicUrl: string): string {
  return [
    'Someone (we hope you) asked to reset the password of your SecureAI Guardian account.',
    '',
    'Choose a new password here; the link works once, within 30 minutes:',
    '',
    link,
    '',
    `Without the web app, send the part after "#token=" as {"token": "...", "newPassword": "..."} in a POST to ${publicUrl}/api/v1/auth/password-reset/confirm.`,
    '',
    'If you did not ask for this, ignore this message: your password stays as it is.',
    'Resetting the password signs out every session; two-factor authentication stays on.',
  ].join('\n');
}
