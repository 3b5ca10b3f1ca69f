import type { FlagClient } from './open-feature-client.js';
import { organisationAttribute } from './flag-evaluation.js';

/** A detector that runs only where its boolean flag says so; `whenUnset` is what runs without the flag. */
export interface FlagGatedDetector {
  detectorId: string;
  flagKey: string;
  whenUnset: boolean;
}

/**
 * Detectors behind a flag. `c2pa-provenance` (a weak cue: it never sets the band on its own) runs unless an
 * operator switches it off for an organisation or a share of them; an experimental detector would be listed
 * with `whenUnset: false`, so it runs only for organisations the flag turns it on for.
 */
export const flagGatedDetectors: readonly FlagGatedDetector[] = [
  { detectorId: 'c2pa-provenance', flagKey: 'detector.c2pa-provenance', whenUnset: true },
];

/** How a flag decided for one analysis; recorded in the report's `versions.featureFlags`. */
export interface DetectorFlagDecision {
  detectorId: string;
  flagKey: string;
  enabled: boolean;
  variant: string | null;
  /** OpenFeature reason: STATIC, DEFAULT, TARGETING_MATCH, SPLIT, DISABLED or ERROR. */
  reason: string;
  errorCode: string | null;
}

export interface DetectorFlags {
  /** One decision per gated detector, the organisation as targeting key. */
  decide(orgId: string): Promise<DetectorFlagDecision[]>;
}

export function createDetectorFlags(deps: {
  client: Pick<FlagClient, 'getBooleanDetails'>;
  gated?: readonly FlagGatedDetector[];
}): DetectorFlags {
  const gated = deps.gated ?? flagGatedDetectors;
  return {
    async decide(orgId) {
      return Promise.all(
        gated.map(async ({ detectorId, flagKey, whenUnset }) => {
          const details = await deps.client.getBooleanDetails(flagKey, whenUnset, {
            targetingKey: orgId,
            [organisationAttribute]: orgId,
          });
          return {
            detectorId,
            flagKey,
            enabled: details.value,
            variant: details.variant ?? null,
            reason: details.reason ?? 'UNKNOWN',
            errorCode: details.errorCode ?? null,
          };
        }),
      );
    },
  };
}
