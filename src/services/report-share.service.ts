import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Analysis, Database, ReportShare } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import { actorRefOf } from '../http/access-control.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { ReportShareRepository } from '../repositories/report-share.repository.js';
import type { ArtifactEntry } from './analysis-artifacts.service.js';
import type { AnalysisArtifactsService } from './analysis-artifacts.service.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, notFound } from './errors.js';
import type { ReportIntegrity } from './report-integrity.js';
import type { ClientInfo } from './session.service.js';
import type { SignedLink, SignedLinksService } from './signed-links.service.js';
import { auditActorOf } from './user.service.js';

export const shareLimits = { defaultHours: 72, maxHours: 30 * 24, labelLength: 200 } as const;
/** How long the media and artifact links inside a shared report last (capped at the share's own end). */
const sharedLinkSeconds = 3600;
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export const hashShareToken = (token: string) => createHash('sha256').update(token).digest('hex');

const shareLinkInvalid = () =>
  new AppError(403, 'share-link-invalid', 'Share link invalid', 'this share link does not exist');
const shareLinkExpired = () =>
  new AppError(403, 'share-link-expired', 'Share link expired', 'this share link has expired');
const shareLinkRevoked = () =>
  new AppError(403, 'share-link-revoked', 'Share link revoked', 'this share link was revoked');

export interface SharedReport {
  share: ReportShare;
  analysis: Analysis;
  media: (SignedLink & { mimeType: string }) | null;
  artifacts: { entry: ArtifactEntry; link: SignedLink | null }[];
}

export interface ReportShareServiceDeps {
  db: Kysely<Database>;
  shares: ReportShareRepository;
  analyses: Pick<AnalysisRepository, 'findById'>;
  artifacts: Pick<AnalysisArtifactsService, 'list'>;
  /** The media row, for its type and whether it is still stored. */
  media: Pick<MediaRepository, 'findById'>;
  links: Pick<SignedLinksService, 'mediaLink' | 'artifactLinkFor'>;
  audit: AuditLogService;
  now: () => Date;
  /** Checks a finished report against its signed statement before it is served; absent: not checked (unit tests). */
  reportIntegrity?: Pick<ReportIntegrity, 'check'>;
}

/** Expiring, revocable, read-only links to one report, for people outside the organisation. */
export function createReportShareService(deps: ReportShareServiceDeps) {
  const { shares, audit, now } = deps;

  async function findAnalysis(orgId: string, id: string): Promise<Analysis> {
    const analysis = await deps.analyses.findById(orgId, id);
    if (!analysis) throw notFound('analysis');
    await deps.reportIntegrity?.check(analysis);
    return analysis;
  }

  /** The token's share if it stands; otherwise the reason, as its own stable code. */
  async function standingShare(token: string): Promise<ReportShare> {
    const share = tokenPattern.test(token) ? await shares.findByTokenHash(hashShareToken(token)) : null;
    if (!share) throw shareLinkInvalid();
    if (share.revoked_at) throw shareLinkRevoked();
    if (share.expires_at.getTime() <= now().getTime()) throw shareLinkExpired();
    return share;
  }

  return {
    /** `active` until it expires or is revoked; revoked wins (it was a decision). */
    statusOf(share: ReportShare): 'active' | 'expired' | 'revoked' {
      if (share.revoked_at) return 'revoked';
      return share.expires_at.getTime() <= now().getTime() ? 'expired' : 'active';
    },

    /** The token is returned once; only its SHA-256 is kept (256 random bits: no slow hash needed). */
    async create(
      principal: Principal,
      analysisId: string,
      input: { expiresInHours: number; label: string | null; includeMedia: boolean },
      client: ClientInfo,
    ): Promise<{ share: ReportShare; token: string }> {
      const analysis = await findAnalysis(principal.orgId, analysisId);
      if (analysis.status !== 'done')
        throw new AppError(
          409,
          'analysis-not-finished',
          'Analysis not finished',
          'only a finished report can be shared',
        );
      const token = randomBytes(32).toString('base64url');
      const createdAt = now();
      const share = await deps.db.transaction().execute(async (trx) => {
        const created = await shares.create(
          {
            orgId: principal.orgId,
            analysisId: analysis.id,
            tokenHash: hashShareToken(token),
            label: input.label,
            includeMedia: input.includeMedia,
            createdBy: actorRefOf(principal),
            createdAt,
            expiresAt: new Date(createdAt.getTime() + input.expiresInHours * 3_600_000),
          },
          trx,
        );
        await audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'report-share.create',
            outcome: 'success',
            target: { type: 'report-share', id: created.id },
            ip: client.ip,
            userAgent: client.userAgent,
            details: {
              analysisId: analysis.id,
              expiresAt: created.expires_at.toISOString(),
              includeMedia: created.include_media,
            },
          },
          trx,
        );
        return created;
      });
      return { share, token };
    },

    async list(orgId: string, analysisId: string): Promise<ReportShare[]> {
      const analysis = await findAnalysis(orgId, analysisId);
      return shares.listForAnalysis(orgId, analysis.id);
    },

    /** Idempotent: revoking a revoked share answers the same and writes no second audit entry. */
    async revoke(principal: Principal, shareId: string, client: ClientInfo): Promise<void> {
      const found = await shares.findById(principal.orgId, shareId);
      if (!found) throw notFound('share');
      await deps.db.transaction().execute(async (trx) => {
        const revoked = await shares.revoke(
          principal.orgId,
          found.id,
          { ...actorRefOf(principal), at: now() },
          trx,
        );
        if (!revoked) return;
        await audit.append(
          {
            orgId: principal.orgId,
            actor: auditActorOf(principal),
            action: 'report-share.revoke',
            outcome: 'success',
            target: { type: 'report-share', id: revoked.id },
            ip: client.ip,
            userAgent: client.userAgent,
            details: { analysisId: revoked.analysis_id },
          },
          trx,
        );
      });
    },

    /**
     * The shared report. Every use is counted on the row (`use_count`, `last_used_at`); only the first is
     * audited, so an anonymous holder cannot grow the hash-chained log without bound.
     */
    async open(token: string, client: ClientInfo): Promise<SharedReport> {
      const share = await standingShare(token);
      const analysis = await findAnalysis(share.organisation_id, share.analysis_id);
      const { first } = await shares.recordUse(share.id, now());
      if (first) {
        await audit.append({
          orgId: share.organisation_id,
          actor: { type: 'anonymous', id: null },
          action: 'report-share.first-use',
          outcome: 'success',
          target: { type: 'report-share', id: share.id },
          ip: client.ip,
          userAgent: client.userAgent,
          details: { analysisId: analysis.id },
        });
      }
      if (!share.include_media) return { share, analysis, media: null, artifacts: [] };
      const options = {
        expiresAt: new Date(Math.min(now().getTime() + sharedLinkSeconds * 1000, share.expires_at.getTime())),
        shareId: share.id,
      };
      const orgId = share.organisation_id;
      const { entries } = await deps.artifacts.list(orgId, analysis.id);
      const stored = await deps.media.findById(orgId, analysis.media_id);
      const media =
        stored?.status === 'stored'
          ? { ...(await deps.links.mediaLink(orgId, stored.id, options)), mimeType: stored.mime_type }
          : null;
      return {
        share,
        analysis,
        media,
        artifacts: entries.map((entry) => ({
          entry,
          link:
            entry.offset === null
              ? null
              : deps.links.artifactLinkFor(analysis.id, entry.detector, entry.listing.name, orgId, options),
        })),
      };
    },
  };
}

/** For links a share issued: they stop working the moment it is revoked or expires. */
export function shareStandsCheck(deps: { shares: Pick<ReportShareRepository, 'findById'>; now: () => Date }) {
  return async (orgId: string, shareId: string): Promise<boolean> => {
    const share = await deps.shares.findById(orgId, shareId);
    return share !== null && share.revoked_at === null && share.expires_at.getTime() > deps.now().getTime();
  };
}

export type ReportShareService = ReturnType<typeof createReportShareService>;
