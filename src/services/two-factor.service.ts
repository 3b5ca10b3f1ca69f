import type { Principal } from '../http/access-control.js';
import type { OrganisationSettingsRepository } from '../repositories/organisation-settings.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuditEvent, AuditLog } from './audit-log.js';
import type { SignedInUser } from './auth.service.js';
import { AppError, notFound } from './errors.js';
import { admitAttempt, type LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import type { AuthenticatedSession, ClientInfo, IssuedSession, SessionService } from './session.service.js';
import type { TotpEnrolment, TotpService, TotpStatus } from './totp.service.js';
import { auditActorOf } from './user.service.js';

/** A TOTP code from the authenticator app, or one of the recovery codes. */
export type SecondFactorProof = { code: string } | { recoveryCode: string };

export const invalidSecondFactor = (status: 400 | 401 = 401) =>
  new AppError(status, 'invalid-second-factor', 'Invalid code', 'the code is wrong, expired or already used');

export const enrolmentRequired = () =>
  new AppError(
    403,
    '2fa-enrolment-required',
    'Two-factor enrolment required',
    'your organisation requires admins to use two-factor authentication: enrol with POST /api/v1/auth/2fa/enrol, then confirm with POST /api/v1/auth/2fa/confirm',
  );

const wrongPassword = () =>
  new AppError(401, 'invalid-credentials', 'Invalid credentials', 'the password is wrong');

/** The throttle key of an account's second-factor attempts. */
export function secondFactorThrottleKey(email: string): string {
  return `second-factor:${email}`;
}

/**
 * What a person does with their second factor: enrol and confirm TOTP, pass the second login step, and,
 * after proving password and code again, turn it off or replace the recovery codes. Every attempt that
 * checks a password or a login code goes through the login throttle under the account's email.
 */
export function createTwoFactorService(deps: {
  totp: TotpService;
  users: UserRepository;
  hasher: PasswordHasher;
  sessions: SessionService;
  throttle: LoginThrottle;
  audit: AuditLog;
  settings: OrganisationSettingsRepository;
}) {
  const { totp, users, throttle, audit } = deps;
  const ipOf = (client: ClientInfo) => client.ip ?? 'unknown';

  const eventFor = (session: AuthenticatedSession, action: string, client: ClientInfo) => ({
    orgId: session.principal.orgId,
    actor: { type: 'user', id: session.userId } as const,
    action,
    target: { type: 'user', id: session.userId },
    ip: client.ip,
    userAgent: client.userAgent,
  });

  const admit = (email: string, client: ClientInfo, event: Omit<AuditEvent, 'outcome'>) =>
    admitAttempt({ throttle, audit }, { accountKey: email, ip: ipOf(client) }, event);

  /**
   * Checks a TOTP or recovery code (consuming it when right) under the throttle's second-factor key for the
   * account: apart from the password's, so signing in with the right password never resets the count of
   * wrong codes.
   */
  async function proveSecondFactor(
    email: string,
    userId: string,
    proof: SecondFactorProof,
    event: Omit<AuditEvent, 'outcome'>,
    client: ClientInfo,
  ): Promise<'totp' | 'recovery-code'> {
    const accountKey = secondFactorThrottleKey(email);
    await admit(accountKey, client, event);
    const method = 'code' in proof ? 'totp' : 'recovery-code';
    const valid =
      'code' in proof
        ? await totp.verifyCode(userId, proof.code)
        : await totp.useRecoveryCode(userId, proof.recoveryCode);
    if (!valid) {
      await throttle.recordFailure({ accountKey, ip: ipOf(client) });
      await audit.append({
        ...event,
        outcome: 'failure',
        details: { reason: 'wrong-second-factor', method },
      });
      throw invalidSecondFactor();
    }
    await throttle.recordSuccess({ accountKey });
    return method;
  }

  /** The password (throttled like a login), then the second factor when given. */
  async function reauthenticate(
    session: AuthenticatedSession,
    input: { password: string; proof?: SecondFactorProof },
    event: Omit<AuditEvent, 'outcome'>,
    client: ClientInfo,
  ) {
    const user = await users.findById(session.principal.orgId, session.userId);
    if (!user) throw notFound('user');
    await admit(user.email, client, event);
    if (!(await deps.hasher.verify(user.password_hash, input.password))) {
      await throttle.recordFailure({ accountKey: user.email, ip: ipOf(client) });
      await audit.append({ ...event, outcome: 'failure', details: { reason: 'wrong-password' } });
      throw wrongPassword();
    }
    await throttle.recordSuccess({ accountKey: user.email });
    if (input.proof) await proveSecondFactor(user.email, user.id, input.proof, event, client);
    return user;
  }

  return {
    status: (session: AuthenticatedSession): Promise<TotpStatus> => totp.status(session.userId),

    /** Needs the password again: a stolen session must not be able to bind its own authenticator. */
    async enrol(
      session: AuthenticatedSession,
      input: { password: string },
      client: ClientInfo,
    ): Promise<TotpEnrolment> {
      const event = eventFor(session, 'auth.2fa.enrol', client);
      const user = await reauthenticate(session, input, event, client);
      const enrolment = await totp.enrol({ id: user.id, email: user.email });
      await audit.append({ ...event, outcome: 'success' });
      return enrolment;
    },

    /** Turns TOTP on and ends the user's other sessions, which were opened without it. */
    async confirm(session: AuthenticatedSession, code: string, client: ClientInfo): Promise<string[]> {
      const event = eventFor(session, 'auth.2fa.enable', client);
      const recoveryCodes = await totp.confirm(session.userId, code);
      if (!recoveryCodes) {
        await audit.append({ ...event, outcome: 'failure', details: { reason: 'wrong-code' } });
        throw invalidSecondFactor(400);
      }
      const otherSessionsEnded = await deps.sessions.endAllForUser(session.userId, session.sessionId);
      await audit.append({ ...event, outcome: 'success', details: { otherSessionsEnded } });
      return recoveryCodes;
    },

    /** The second login step: a new session token, now complete. */
    async completeLogin(
      session: AuthenticatedSession,
      proof: SecondFactorProof,
      client: ClientInfo,
    ): Promise<{ user: SignedInUser; session: IssuedSession }> {
      const event = eventFor(session, 'auth.login.2fa', client);
      const method = await proveSecondFactor(session.email, session.userId, proof, event, client);
      const user = await users.findById(session.principal.orgId, session.userId);
      if (!user) throw notFound('user');
      const rotated = await deps.sessions.rotate(session.sessionId, 'complete');
      const recoveryCodesLeft =
        method === 'recovery-code' ? (await totp.status(user.id)).recoveryCodesLeft : null;
      await audit.append({
        ...event,
        outcome: 'success',
        details: { method, ...(recoveryCodesLeft === null ? {} : { recoveryRemaining: recoveryCodesLeft }) },
      });
      return {
        user: { id: user.id, email: user.email, role: user.role, orgId: user.org_id },
        session: rotated,
      };
    },

    /** Needs password and a code; ends the user's other sessions. */
    async disable(
      session: AuthenticatedSession,
      input: { password: string; proof: SecondFactorProof },
      client: ClientInfo,
    ): Promise<void> {
      const event = eventFor(session, 'auth.2fa.disable', client);
      if (!(await totp.isEnabled(session.userId))) throw notFound('two-factor enrolment');
      await reauthenticate(session, input, event, client);
      await totp.disable(session.userId);
      const otherSessionsEnded = await deps.sessions.endAllForUser(session.userId, session.sessionId);
      await audit.append({ ...event, outcome: 'success', details: { otherSessionsEnded } });
    },

    /** Needs password and a code; the old recovery codes stop working. */
    async regenerateRecoveryCodes(
      session: AuthenticatedSession,
      input: { password: string; proof: SecondFactorProof },
      client: ClientInfo,
    ): Promise<string[]> {
      const event = eventFor(session, 'auth.2fa.recovery-codes.regenerate', client);
      if (!(await totp.isEnabled(session.userId))) throw notFound('two-factor enrolment');
      await reauthenticate(session, input, event, client);
      const codes = await totp.regenerateRecoveryCodes(session.userId);
      await audit.append({ ...event, outcome: 'success' });
      return codes;
    },

    async setAdminRequirement(principal: Principal, required: boolean, client: ClientInfo) {
      const org = await deps.settings.setRequireAdmin2fa(principal.orgId, required);
      if (!org) throw notFound('organisation');
      await audit.append({
        orgId: org.id,
        actor: auditActorOf(principal),
        action: 'org.settings.change',
        outcome: 'success',
        target: { type: 'organisation', id: org.id },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { requireAdmin2fa: required },
      });
      return { id: org.id, name: org.name, requireAdmin2fa: org.require_admin_2fa };
    },

    /** For access control: an admin person whose organisation requires 2FA and who has not enrolled. */
    async mustEnrol(principal: Principal): Promise<boolean> {
      if (principal.actor.type !== 'user' || principal.role !== 'admin') return false;
      return deps.settings.isAdminEnrolmentMissing(principal.orgId, principal.actor.userId);
    },
  };
}

export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
