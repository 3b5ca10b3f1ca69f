import type { Role } from '../db/schema.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuditEvent, AuditLog } from './audit-log.js';
import { AppError, notFound } from './errors.js';
import { admitAttempt, type LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import { assertAcceptablePassword } from './password-policy.js';
import type { AuthenticatedSession, ClientInfo, IssuedSession, SessionService } from './session.service.js';
import { normaliseEmail } from './user.service.js';

/** Whether a user must pass a second factor after the password (TOTP enrolled and confirmed). */
export interface SecondFactor {
  isEnabled(userId: string): Promise<boolean>;
}

export interface SignedInUser {
  id: string;
  email: string;
  role: Role;
  orgId: string;
}

export const invalidCredentials = () =>
  new AppError(401, 'invalid-credentials', 'Invalid credentials', 'the email or password is wrong');

/**
 * Signing in and out, and what needs the password again. Every answer to a failed login is the same 401
 * whether the account exists, is disabled or the password is wrong, after the same argon2 work.
 */
export function createAuthService(deps: {
  users: UserRepository;
  organisations: OrganisationRepository;
  hasher: PasswordHasher;
  sessions: SessionService;
  throttle: LoginThrottle;
  audit: AuditLog;
  secondFactor: SecondFactor;
  now: () => Date;
}) {
  const { users, organisations, hasher, sessions, throttle, audit, secondFactor, now } = deps;
  const ipOf = (client: ClientInfo) => client.ip ?? 'unknown';
  const where = (client: ClientInfo) => ({ ip: client.ip, userAgent: client.userAgent });

  const admit = (accountKey: string, client: ClientInfo, event: Omit<AuditEvent, 'outcome'>) =>
    admitAttempt({ throttle, audit }, { accountKey, ip: ipOf(client) }, event);

  /**
   * The only moment the plain password is at hand: a hash made with other argon2 parameters than today's is
   * replaced by one made with them. Returns whether it was.
   */
  async function rehashIfOutdated(user: { id: string; password_hash: string }, password: string) {
    if (!hasher.needsRehash(user.password_hash)) return false;
    const rehashed = await hasher.hash(password);
    return users.replacePasswordHash(user.id, user.password_hash, rehashed);
  }

  return {
    async login(input: {
      email: string;
      password: string;
      client: ClientInfo;
      /** The cookie the browser still sent, if any: that session ends, the login gets a new token. */
      previousToken?: string;
    }): Promise<{ user: SignedInUser; session: IssuedSession }> {
      const email = normaliseEmail(input.email);
      const anonymous = {
        orgId: null,
        actor: { type: 'anonymous', id: null } as const,
        action: 'auth.login',
      };
      await admit(email, input.client, { ...anonymous, ...where(input.client) });
      const user = await users.findByEmail(email);
      let reason: string | null = null;
      if (!user) {
        await hasher.verifyDummy(input.password);
        reason = 'unknown-account';
      } else if (!(await hasher.verify(user.password_hash, input.password))) reason = 'wrong-password';
      else if (user.status !== 'active') reason = 'account-disabled';
      if (!user || reason !== null) {
        await throttle.recordFailure({ accountKey: email, ip: ipOf(input.client) });
        await audit.append({
          ...anonymous,
          ...(user ? { orgId: user.org_id, target: { type: 'user', id: user.id } } : {}),
          outcome: 'failure',
          ...where(input.client),
          details: { reason },
        });
        throw invalidCredentials();
      }
      await throttle.recordSuccess({ accountKey: email });
      const rehashed = await rehashIfOutdated(user, input.password);
      if (input.previousToken) await sessions.endByToken(input.previousToken);
      const stage = (await secondFactor.isEnabled(user.id)) ? 'second-factor' : 'complete';
      const session = await sessions.start({
        userId: user.id,
        orgId: user.org_id,
        stage,
        client: input.client,
      });
      await audit.append({
        orgId: user.org_id,
        actor: { type: 'user', id: user.id },
        action: 'auth.login',
        outcome: 'success',
        target: { type: 'session', id: session.sessionId },
        ...where(input.client),
        details: { stage, rehashed },
      });
      return { user: { id: user.id, email: user.email, role: user.role, orgId: user.org_id }, session };
    },

    async logout(session: AuthenticatedSession, client: ClientInfo): Promise<void> {
      await sessions.end(session.sessionId);
      await audit.append({
        orgId: session.principal.orgId,
        actor: { type: 'user', id: session.userId },
        action: 'auth.logout',
        outcome: 'success',
        target: { type: 'session', id: session.sessionId },
        ...where(client),
      });
    },

    /**
     * Needs the current password. Ends every other session of the user and rotates this one: the caller
     * gets a new cookie token and CSRF token, and anyone holding an old cookie is signed out.
     */
    async changePassword(
      session: AuthenticatedSession,
      input: { currentPassword: string; newPassword: string },
      client: ClientInfo,
    ): Promise<IssuedSession> {
      assertAcceptablePassword(input.newPassword);
      const user = await users.findById(session.principal.orgId, session.userId);
      if (!user) throw notFound('user');
      const event = {
        orgId: user.org_id,
        actor: { type: 'user', id: user.id } as const,
        action: 'auth.password.change',
        target: { type: 'user', id: user.id },
        ...where(client),
      };
      await admit(user.email, client, event);
      if (!(await hasher.verify(user.password_hash, input.currentPassword))) {
        await throttle.recordFailure({ accountKey: user.email, ip: ipOf(client) });
        await audit.append({ ...event, outcome: 'failure', details: { reason: 'wrong-current-password' } });
        throw new AppError(
          401,
          'invalid-credentials',
          'Invalid credentials',
          'the current password is wrong',
        );
      }
      await throttle.recordSuccess({ accountKey: user.email });
      await users.setPasswordHash(user.id, await hasher.hash(input.newPassword), now());
      const ended = await sessions.endAllForUser(user.id, session.sessionId);
      const rotated = await sessions.rotate(session.sessionId, session.stage);
      await audit.append({ ...event, outcome: 'success', details: { otherSessionsEnded: ended } });
      return rotated;
    },

    async revokeSession(session: AuthenticatedSession, sessionId: string, client: ClientInfo): Promise<void> {
      await sessions.revokeOwn(session.userId, sessionId);
      await audit.append({
        orgId: session.principal.orgId,
        actor: { type: 'user', id: session.userId },
        action: 'auth.session.revoke',
        outcome: 'success',
        target: { type: 'session', id: sessionId },
        ...where(client),
      });
    },

    async me(session: AuthenticatedSession) {
      const [user, org, twoFactorEnabled] = await Promise.all([
        users.findById(session.principal.orgId, session.userId),
        organisations.findById(session.principal.orgId),
        secondFactor.isEnabled(session.userId),
      ]);
      if (!user || !org) throw notFound('user');
      return {
        user: {
          id: user.id,
          email: user.email,
          role: user.role,
          orgId: user.org_id,
          createdAt: user.created_at,
          passwordChangedAt: user.password_changed_at,
        },
        organisation: { id: org.id, name: org.name, requireAdmin2fa: org.require_admin_2fa },
        twoFactor: { enabled: twoFactorEnabled, required: org.require_admin_2fa && user.role === 'admin' },
        session: { id: session.sessionId, stage: session.stage },
      };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
