import type { Media } from '../db/schema.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import type { AnalysisArtifactsService, ArtifactContent } from './analysis-artifacts.service.js';
import { artifactNotFound } from './analysis-artifacts.service.js';
import { AppError, notFound } from './errors.js';
import type { LinkClaims, LinkPurpose, LinkSigner } from './link-signer.js';
import type { MediaContent, StoredMediaService } from './stored-media.service.js';

export const linkLifetimes = { defaultSeconds: 300, maxSeconds: 3600 } as const;

export interface SignedLink {
  /** A path on this API (no origin): it carries its own authorisation, no cookie or key is needed. */
  url: string;
  expiresAt: Date;
}

/** The query of a signed URL as received; the route has checked only their shape. */
export interface PresentedLink {
  org: string;
  exp: number;
  sig: string;
  share?: string | undefined;
}

export interface SignedLinksDeps {
  signer: LinkSigner;
  media: Pick<MediaRepository, 'findById'>;
  storedMedia: Pick<StoredMediaService, 'openContent'>;
  artifacts: Pick<AnalysisArtifactsService, 'list' | 'read'>;
  /** Whether the share that issued a link still stands (not revoked, not expired). */
  shareIsActive(orgId: string, shareId: string): Promise<boolean>;
  now: () => Date;
}

const mediaDeleted = () =>
  new AppError(410, 'media-deleted', 'Media deleted', 'the media was deleted; its link no longer works');

const artifactObjectId = (analysisId: string, detector: string, name: string) =>
  `${analysisId}/${detector}/${name}`;

/** Short-lived, object-bound links to media and artifact bytes (for players and downloads). */
export function createSignedLinksService(deps: SignedLinksDeps) {
  const { signer, now } = deps;

  function issue(
    purpose: LinkPurpose,
    orgId: string,
    objectId: string,
    path: string,
    options: { expiresAt: Date; shareId?: string },
  ): SignedLink {
    const claims: LinkClaims = {
      purpose,
      orgId,
      objectId,
      expiresAt: Math.floor(options.expiresAt.getTime() / 1000),
      shareId: options.shareId ?? null,
    };
    const query = new URLSearchParams({ org: orgId, exp: String(claims.expiresAt) });
    if (claims.shareId) query.set('share', claims.shareId);
    query.set('sig', signer.sign(claims));
    return { url: `${path}?${query.toString()}`, expiresAt: new Date(claims.expiresAt * 1000) };
  }

  /** Signature first, expiry next, then the share that issued it (one lookup, only for a genuine link). */
  async function check(purpose: LinkPurpose, objectId: string, presented: PresentedLink): Promise<void> {
    const shareId = presented.share ?? null;
    signer.verify(
      { purpose, orgId: presented.org, objectId, expiresAt: presented.exp, shareId },
      presented.sig,
    );
    if (shareId && !(await deps.shareIsActive(presented.org, shareId))) {
      throw new AppError(403, 'link-revoked', 'Link revoked', 'the share this link came from has ended');
    }
  }

  const expiryIn = (seconds: number) => new Date(now().getTime() + seconds * 1000);

  return {
    expiryIn,

    async mediaLink(
      orgId: string,
      mediaId: string,
      options: { expiresAt: Date; shareId?: string },
    ): Promise<SignedLink> {
      const found = await deps.media.findById(orgId, mediaId);
      if (!found || found.status !== 'stored') throw notFound('media');
      return issue('media-content', orgId, found.id, `/api/v1/signed/media/${found.id}/content`, options);
    },

    async artifactLink(
      orgId: string,
      target: { analysisId: string; detector: string; name: string },
      options: { expiresAt: Date; shareId?: string },
    ): Promise<SignedLink> {
      const { analysis, entries } = await deps.artifacts.list(orgId, target.analysisId);
      const entry = entries.find((e) => e.detector === target.detector && e.listing.name === target.name);
      if (!entry || entry.offset === null)
        throw artifactNotFound(`the analysis has no available artifact ${target.detector}/${target.name}`);
      return artifactLinkFor(analysis.id, entry.detector, entry.listing.name, orgId, options);
    },

    /** For entries already listed (a shared report): no second lookup. */
    artifactLinkFor,

    async openMedia(mediaId: string, presented: PresentedLink): Promise<MediaContent> {
      await check('media-content', mediaId, presented);
      const found: Media | null = await deps.media.findById(presented.org, mediaId);
      if (found?.status === 'deleted') throw mediaDeleted();
      const content = await deps.storedMedia.openContent(presented.org, mediaId);
      // A link handed outside the organisation (a share) does not give out the uploader's file name.
      return presented.share ? { ...content, media: { ...content.media, original_filename: null } } : content;
    },

    async readArtifact(
      target: { analysisId: string; detector: string; name: string },
      presented: PresentedLink,
    ): Promise<ArtifactContent> {
      const { analysisId, detector, name } = target;
      await check('artifact-content', artifactObjectId(analysisId, detector, name), presented);
      return deps.artifacts.read(presented.org, analysisId, detector, name);
    },
  };

  function artifactLinkFor(
    analysisId: string,
    detector: string,
    name: string,
    orgId: string,
    options: { expiresAt: Date; shareId?: string },
  ): SignedLink {
    const path = `/api/v1/signed/analyses/${analysisId}/artifacts/${encodeURIComponent(detector)}/${encodeURIComponent(name)}`;
    return issue('artifact-content', orgId, artifactObjectId(analysisId, detector, name), path, options);
  }
}

export type SignedLinksService = ReturnType<typeof createSignedLinksService>;
