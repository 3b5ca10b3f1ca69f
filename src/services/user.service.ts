import { z } from 'zod';
import type { Role, UserStatus } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import type { UserRepository, UserSummary } from '../repositories/user.repository.js';
import type { AuditActor, AuditLog } from './audit-log.js';
import { badRequest, notFound } from './errors.js';
import type { PasswordHasher } from './password-hasher.js';
import { assertAcceptablePassword } from './password-policy.js';
import type { ClientInfo, SessionService } from './session.service.js';

export const emailSchema = z.email().max(254);

/** The form every lookup and every stored address uses. */
export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

export function auditActorOf(principal: Principal): AuditActor {
  return principal.actor.type === 'user'
    ? { type: 'user', id: principal.actor.userId }
    : { type: 'api-key', id: principal.actor.keyId };
}

const noClient: ClientInfo = { ip: null, userAgent: null };

/** People of an organisation: created by the CLI (first admin) or by invitation, managed by admins. */
export function createUserService(deps: {
  users: UserRepository;
  organisations: OrganisationRepository;
  sessions: SessionService;
  hasher: PasswordHasher;
  audit: AuditLog;
  now: () => Date;
}) {
  const { users, organisations, sessions, hasher, audit, now } = deps;

  return {
    /**
     * Creates an account in an organisation (the password is checked against the policy, then hashed).
     * Throws 404 for an unknown organisation, 409 for a taken email.
     */
    async create(
      input: { orgId: string; email: string; password: string; role: Role },
      by: { actor: AuditActor; client?: ClientInfo },
    ): Promise<UserSummary> {
      const email = normaliseEmail(input.email);
      if (!emailSchema.safeParse(email).success)
        throw badRequest('invalid-email', 'not a valid email address');
      assertAcceptablePassword(input.password);
      const created = await users.create({
        orgId: input.orgId,
        email,
        passwordHash: await hasher.hash(input.password),
        role: input.role,
      });
      const client = by.client ?? noClient;
      await audit.append({
        orgId: created.org_id,
        actor: by.actor,
        action: 'user.create',
        outcome: 'success',
        target: { type: 'user', id: created.id },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { role: created.role },
      });
      const { password_hash: _hash, ...summary } = created;
      return summary;
    },

    /** `guardian user create`: the organisation by name. */
    async createInOrganisation(input: { orgName: string; email: string; password: string; role: Role }) {
      const org = await organisations.findByName(input.orgName);
      if (!org) throw notFound(`organisation "${input.orgName}"`);
      return this.create({ ...input, orgId: org.id }, { actor: { type: 'cli', id: null } });
    },

    list: (orgId: string) => users.listByOrg(orgId),

    async get(orgId: string, id: string): Promise<UserSummary> {
      const user = await users.findById(orgId, id);
      if (!user) throw notFound('user');
      const { password_hash: _hash, ...summary } = user;
      return summary;
    },

    /**
     * An admin changes a user's role or status within their organisation (404 across organisations,
     * 409 `last-admin` when no active admin would remain). Disabling ends all the user's sessions at once;
     * a role change applies to their live sessions from the next request.
     */
    async update(
      principal: Principal,
      id: string,
      change: { role?: Role; status?: UserStatus },
      client: ClientInfo,
    ): Promise<UserSummary> {
      const before = await users.findById(principal.orgId, id);
      if (!before) throw notFound('user');
      const updated = await users.update(principal.orgId, id, change, now());
      if (!updated) throw notFound('user');
      const event = {
        orgId: principal.orgId,
        actor: auditActorOf(principal),
        outcome: 'success' as const,
        target: { type: 'user', id },
        ip: client.ip,
        userAgent: client.userAgent,
      };
      if (updated.status === 'disabled' && before.status !== 'disabled') {
        const ended = await sessions.endAllForUser(id);
        await audit.append({ ...event, action: 'user.disable', details: { sessionsEnded: ended } });
      } else if (updated.status === 'active' && before.status !== 'active') {
        await audit.append({ ...event, action: 'user.enable' });
      }
      if (updated.role !== before.role) {
        await audit.append({
          ...event,
          action: 'user.role.change',
          details: { from: before.role, to: updated.role },
        });
      }
      return updated;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
