import { createHash } from 'node:crypto';
import type { DetectorArtifact } from './detector.js';

/** Artifact names become URL path segments and file names: no slashes, no leading dot. */
export const artifactNamePattern = /^[a-z0-9][a-z0-9.-]{0,80}$/;
const contentTypePattern = /^[a-z]+\/[a-z0-9][a-z0-9.+-]{0,80}$/;
/** Per analysis: artifacts are kept in memory until the analysis ends and are stored with its report. */
export const defaultMaxArtifactBytes = 32 * 1024 * 1024;
export const defaultMaxArtifacts = 256;

/** One artifact in the report: what it is and its digest; the bytes are stored beside the report. */
export interface ArtifactListing {
  name: string;
  contentType: string;
  description: string;
  sizeBytes: number;
  sha256: string;
  /** Why the bytes were not kept (over the per-analysis limit, bad name...); absent when they were. */
  dropped?: string;
}

/** Receives each kept artifact once, in report order; `fullName` is `<detectorId>/<name>`. */
export type ArtifactSink = (fullName: string, artifact: DetectorArtifact) => void | Promise<void>;

export interface ArtifactCollector {
  /** Lists a detector's artifacts and hands the kept ones to the sink; the others are listed as dropped. */
  accept(detectorId: string, artifacts: readonly DetectorArtifact[]): Promise<ArtifactListing[]>;
}

/** One per analysis run: the limits are over the whole run, not per detector. */
export function createArtifactCollector(
  options: { sink?: ArtifactSink; maxBytes?: number; maxArtifacts?: number } = {},
): ArtifactCollector {
  const maxBytes = options.maxBytes ?? defaultMaxArtifactBytes;
  const maxArtifacts = options.maxArtifacts ?? defaultMaxArtifacts;
  const seen = new Set<string>();
  let keptBytes = 0;
  let keptCount = 0;

  function whyDropped(fullName: string, artifact: DetectorArtifact): string | null {
    if (!artifactNamePattern.test(artifact.name))
      return 'the name is not 1-81 characters of a-z, 0-9, "." and "-" starting with a letter or digit';
    if (seen.has(fullName)) return 'another artifact of this detector has the same name';
    if (!contentTypePattern.test(artifact.contentType)) return 'the content type is not a plain type/subtype';
    if (keptCount >= maxArtifacts) return `the analysis already keeps ${maxArtifacts} artifacts, the limit`;
    if (keptBytes + artifact.data.length > maxBytes)
      return `keeping it would take the analysis past its ${maxBytes}-byte artifact limit (${keptBytes} bytes kept)`;
    return null;
  }

  return {
    async accept(detectorId, artifacts) {
      const listings: ArtifactListing[] = [];
      for (const artifact of artifacts) {
        const fullName = `${detectorId}/${artifact.name}`;
        const listing: ArtifactListing = {
          // A bad name is still shown (bounded) so the reader sees what was dropped.
          name: artifact.name.slice(0, 100),
          contentType: artifact.contentType.slice(0, 100),
          description: artifact.description,
          sizeBytes: artifact.data.length,
          sha256: createHash('sha256').update(artifact.data).digest('hex'),
        };
        const dropped = whyDropped(fullName, artifact);
        if (dropped) {
          listing.dropped = dropped;
        } else {
          seen.add(fullName);
          keptBytes += artifact.data.length;
          keptCount += 1;
          await options.sink?.(fullName, artifact);
        }
        listings.push(listing);
      }
      return listings;
    },
  };
}
