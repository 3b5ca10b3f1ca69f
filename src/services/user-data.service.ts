import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { noCacheInvalidation, type CacheInvalidation } from '../cache/read-cache.js';
import type { Database } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import { exportRowLimit, type UserDataRepository } from '../repositories/user-data.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, badRequest, notFound } from './errors.js';
import type { MediaShredder } from './media-shredder.js';
import type { ClientInfo } from './session.service.js';
import { auditActorOf, normaliseEmail } from './user.service.js';

export interface ErasureResult {
  userId: string;
  /** Media crypto-shredded now. */
  shredded: string[];
  /** Media left stored because it is on legal hold; erase again once the hold is released. */
  heldBack: { mediaId: string; reason: string }[];
  sessionsEnded: number;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** GDPR: a person's data as JSON (art. 15/20) and erasure of their uploads and account (art. 17). */
export function createUserDataService(deps: {
  db: Kysely<Database>;
  users: UserRepository;
  organisations: Pick<OrganisationRepository, 'findById'>;
  userData: UserDataRepository;
  shredder: MediaShredder;
  audit: AuditLogService;
  now: () => Date;
  log: Logger;
  /** Bumped once the email is pseudonymised: the media list shows it as the uploader. Absent: no cache. */
  cache?: CacheInvalidation;
}) {
  const { users, userData, audit } = deps;
  const cache = deps.cache ?? noCacheInvalidation;

  async function findUser(orgId: string, userId: string) {
    const user = await users.findById(orgId, userId);
    if (!user) throw notFound('user');
    return user;
  }

  return {
    /**
     * Everything held about the person, secrets excluded (no password hash, TOTP secret, token or key hash).
     * Audited as `user.export` (by whom, about whom).
     */
    async export(principal: Principal, userId: string, client: ClientInfo) {
      const user = await findUser(principal.orgId, userId);
      const org = await deps.organisations.findById(user.org_id);
      const uploads = await userData.uploads(user.org_id, user.id);
      const analyses = await userData.analysesOf(
        user.org_id,
        uploads.slice(0, exportRowLimit).map((media) => media.id),
      );
      const auditEntries = await userData.auditEntries(user.id);
      const twoFactor = await userData.twoFactor(user.id);
      const document = {
        format: 'secureai-guardian-user-export/1' as const,
        exportedAt: deps.now().toISOString(),
        user: {
          id: user.id,
          email: user.email,
          role: user.role,
          status: user.status,
          createdAt: user.created_at.toISOString(),
          updatedAt: user.updated_at.toISOString(),
          passwordChangedAt: user.password_changed_at.toISOString(),
        },
        organisation: { id: user.org_id, name: org?.name ?? null },
        twoFactor: {
          enrolled: twoFactor.totp?.confirmed_at != null,
          enrolledAt: iso(twoFactor.totp?.confirmed_at ?? null),
          unusedRecoveryCodes: twoFactor.unusedRecoveryCodes,
        },
        sessions: (await userData.sessions(user.id)).map((session) => ({
          id: session.id,
          stage: session.stage,
          createdAt: session.created_at.toISOString(),
          lastSeenAt: session.last_seen_at.toISOString(),
          absoluteExpiresAt: session.absolute_expires_at.toISOString(),
          revokedAt: iso(session.revoked_at),
          ip: session.ip,
          userAgent: session.user_agent,
        })),
        apiKeysCreated: (await userData.apiKeysCreatedBy(user.org_id, user.id)).map((key) => ({
          id: key.id,
          name: key.name,
          prefix: key.prefix,
          role: key.role,
          createdAt: key.created_at.toISOString(),
          lastUsedAt: iso(key.last_used_at),
          expiresAt: iso(key.expires_at),
          revokedAt: iso(key.revoked_at),
        })),
        uploads: uploads.slice(0, exportRowLimit).map((media) => ({
          id: media.id,
          sha256: media.sha256,
          sizeBytes: Number(media.size_bytes),
          mimeType: media.mime_type,
          originalFilename: media.original_filename,
          status: media.status,
          legalHold: media.legal_hold_reason !== null,
          uploadedAt: media.created_at.toISOString(),
          deletedAt: iso(media.deleted_at),
          analyses: analyses
            .filter((analysis) => analysis.media_id === media.id)
            .map((analysis) => ({
              id: analysis.id,
              status: analysis.status,
              band: analysis.band,
              pipelineVersion: analysis.pipeline_version,
              createdAt: analysis.created_at.toISOString(),
              finishedAt: iso(analysis.finished_at),
            })),
        })),
        auditEntries: auditEntries.slice(0, exportRowLimit).map((entry) => ({
          id: entry.id,
          at: entry.at.toISOString(),
          orgId: entry.org_id,
          actor: { type: entry.actor_type, id: entry.actor_id },
          action: entry.action,
          outcome: entry.outcome,
          target:
            entry.target_type && entry.target_id ? { type: entry.target_type, id: entry.target_id } : null,
          ip: entry.ip,
          userAgent: entry.user_agent,
          details: entry.details,
        })),
        truncated: {
          uploads: uploads.length > exportRowLimit,
          auditEntries: auditEntries.length > exportRowLimit,
        },
      };
      await audit.append({
        orgId: principal.orgId,
        actor: auditActorOf(principal),
        action: 'user.export',
        outcome: 'success',
        target: { type: 'user', id: user.id },
        ip: client.ip,
        userAgent: client.userAgent,
        details: { uploads: document.uploads.length, auditEntries: document.auditEntries.length },
      });
      return document;
    },

    /**
     * Crypto-shreds every stored upload of the person that is not on legal hold, then pseudonymises the
     * account (user-data.repository.ts `pseudonymise`). `confirmEmail` must repeat the account's current
     * email. Refuses to erase yourself and the last active admin, both before anything is touched. Repeat it
     * after a hold is released: the held-back media is then shredded too.
     */
    async erase(
      principal: Principal,
      userId: string,
      confirmEmail: string,
      client: ClientInfo,
    ): Promise<ErasureResult> {
      const user = await findUser(principal.orgId, userId);
      if (principal.actor.type === 'user' && principal.actor.userId === user.id)
        throw new AppError(409, 'erasure-of-self', 'Conflict', 'another admin must erase your account');
      if (normaliseEmail(confirmEmail) !== user.email)
        throw badRequest('erasure-confirmation-mismatch', 'confirmEmail must repeat the account email');
      // Disabling first: the last-admin refusal (409 last-admin) comes before any byte is shredded.
      if (user.status === 'active')
        await users.update(principal.orgId, user.id, { status: 'disabled' }, deps.now());
      const shredded: string[] = [];
      const heldBack: ErasureResult['heldBack'] = [];
      for (const mediaId of await userData.storedUploadIds(user.org_id, user.id)) {
        const outcome = await deps.shredder.shred({
          orgId: user.org_id,
          mediaId,
          reason: 'erasure-request',
          actor: auditActorOf(principal),
          ip: client.ip,
          userAgent: client.userAgent,
          details: { erasedUserId: user.id },
        });
        if (outcome.status === 'shredded') shredded.push(mediaId);
        if (outcome.status === 'held') heldBack.push({ mediaId, reason: outcome.hold.reason });
      }
      const { sessionsEnded } = await deps.db.transaction().execute(async (trx) => {
        const removed = await userData.pseudonymise(trx, user, deps.now());
        await audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'user.erasure',
            outcome: 'success',
            target: { type: 'user', id: user.id },
            ip: client.ip,
            userAgent: client.userAgent,
            details: {
              mediaShredded: shredded.length,
              mediaHeldBack: heldBack.length,
              sessionsEnded: removed.sessionsEnded,
              mailRemoved: removed.mailRemoved,
            },
          },
          trx,
        );
        return removed;
      });
      await cache.invalidate(user.org_id);
      deps.log.info(
        { userId: user.id, shredded: shredded.length, heldBack: heldBack.length },
        'user data erased on request',
      );
      return { userId: user.id, shredded, heldBack, sessionsEnded };
    },
  };
}

export type UserDataService = ReturnType<typeof createUserDataService>;
