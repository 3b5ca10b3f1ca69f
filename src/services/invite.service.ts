import type { Kysely } from 'kysely';
import type { Database, Role } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { OneTimeTokenRepository } from '../repositories/one-time-token.repository.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import type { UserRepository, UserSummary } from '../repositories/user.repository.js';
import type { AuditLog } from './audit-log.js';
import { AppError, badRequest, notFound } from './errors.js';
import type { Mailer } from './mailer.js';
import { findRedeemableToken, newOneTimeToken, tokenGone, tokenLink } from './one-time-token.js';
import type { PasswordHasher } from './password-hasher.js';
import { assertAcceptablePassword } from './password-policy.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf, emailSchema, normaliseEmail } from './user.service.js';

export const inviteTtlMs = 72 * 3600_000;

export interface CreatedInvite {
  id: string;
  email: string;
  role: Role;
  expiresAt: Date;
  /** `outbox`: no SMTP configured; the inviting admin gets the link (`link`) to pass on. */
  delivery: 'smtp' | 'outbox';
  /**
   * Only without SMTP, and only in this answer to the inviter: the outbox API redacts it like every link,
   * and with SMTP it goes to the invitee's mailbox alone.
   */
  link?: string;
}

/**
 * Admins invite people by mail: a single-use link, valid for 72 hours, that creates the account in the
 * inviter's organisation with the role the admin chose. A new invite to the same address replaces the old.
 * Without SMTP the inviter passes the link on: it is in the answer to the invite, never in the outbox API.
 */
export function createInviteService(deps: {
  db: Kysely<Database>;
  users: UserRepository;
  organisations: OrganisationRepository;
  tokens: OneTimeTokenRepository;
  hasher: PasswordHasher;
  mailer: Mailer;
  audit: AuditLog;
  publicUrl: string;
  now: () => Date;
}) {
  const { users, tokens, audit, now } = deps;

  return {
    async create(
      principal: Principal,
      input: { email: string; role: Role },
      client: ClientInfo,
    ): Promise<CreatedInvite> {
      const email = normaliseEmail(input.email);
      if (!emailSchema.safeParse(email).success)
        throw badRequest('invalid-email', 'not a valid email address');
      const existing = await users.findByEmail(email);
      // Only a member of the admin's own organisation is reported; anyone else's account stays unseen.
      if (existing?.org_id === principal.orgId) {
        throw new AppError(409, 'already-a-member', 'Conflict', 'this address already belongs to a member');
      }
      const org = await deps.organisations.findById(principal.orgId);
      if (!org) throw notFound('organisation');
      const at = now();
      const { token, tokenHash } = newOneTimeToken();
      const invite = await deps.db.transaction().execute(async (trx) => {
        await tokens.retireOutstanding({ purpose: 'invite', orgId: org.id, email }, at, trx);
        return tokens.create(
          {
            purpose: 'invite',
            tokenHash,
            orgId: org.id,
            userId: null,
            email,
            role: input.role,
            createdBy: principal.actor.type === 'user' ? principal.actor.userId : null,
            createdAt: at,
            expiresAt: new Date(at.getTime() + inviteTtlMs),
          },
          trx,
        );
      });
      const link = tokenLink(deps.publicUrl, '/accept-invite', token);
      await deps.mailer.send({
        orgId: org.id,
        to: email,
        subject: `You are invited to ${org.name} on SecureAI Guardian`,
        text: inviteMailText({ orgName: org.name, role: input.role, link, publicUrl: deps.publicUrl }),
        secrets: [token],
      });
      await audit.append({
        orgId: org.id,
        actor: auditActorOf(principal),
        action: 'user.invite',
        outcome: 'success',
        target: { type: 'invite', id: invite.id },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { role: input.role },
      });
      return {
        id: invite.id,
        email,
        role: input.role,
        expiresAt: invite.expires_at,
        delivery: deps.mailer.delivery,
        ...(deps.mailer.delivery === 'outbox' ? { link } : {}),
      };
    },

    /** Creates the account (password policy applies; a refused password leaves the link usable). */
    async accept(input: { token: string; password: string }, client: ClientInfo): Promise<UserSummary> {
      const invite = await findRedeemableToken(tokens, 'invite', input.token, now());
      const role = invite.role;
      if (!role) throw tokenGone();
      assertAcceptablePassword(input.password);
      const passwordHash = await deps.hasher.hash(input.password);
      const at = now();
      // One transaction: a taken address rolls the token back, a spent token creates no account.
      const created = await deps.db.transaction().execute(async (trx) => {
        if (!(await tokens.consume(invite.id, at, trx))) throw tokenGone();
        return users.create({ orgId: invite.org_id, email: invite.email, passwordHash, role }, trx);
      });
      await audit.append({
        orgId: created.org_id,
        actor: { type: 'user', id: created.id },
        action: 'user.invite.accept',
        outcome: 'success',
        target: { type: 'user', id: created.id },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { role, inviteId: invite.id },
      });
      const { password_hash: _hash, ...summary } = created;
      return summary;
    },
  };
}

export type InviteService = ReturnType<typeof createInviteService>;

function inviteMailText(input: { orgName: string; role: Role; link: string; publicUrl: string }): string {
  return [
    `You have been invited to join ${input.orgName} on SecureAI Guardian as ${/^[aeiou]/.test(input.role) ? 'an' : 'a'} ${input.role}.`,
    '',
    'Choose your password here to create your account; the link works once, within 72 hours:',
    '',
    input.link,
    '',
    `Without the web app, send the part after "#token=" as {"token": "...", "password": "..."} in a POST to ${input.publicUrl}/api/v1/auth/invites/accept.`,
    '',
    'If you did not expect this invitation, ignore this message.',
  ].join('\n');
}
