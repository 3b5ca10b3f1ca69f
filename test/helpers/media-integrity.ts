import type { MediaIntegrity } from '../../src/pipeline/media-intake.js';

/** What the intake check reports for a whole 100-frame, 4 s clip: shared by tests that fake the check. */
export const wholeMediaIntegrity: MediaIntegrity = {
  truncated: false,
  samplesClaimed: 100,
  samplesPresent: 100,
  presentFraction: 1,
  claimedDurationSeconds: 4,
  presentDurationSeconds: 4,
  decodeCheck: { framesTried: 3, framesDecoded: 3 },
};
