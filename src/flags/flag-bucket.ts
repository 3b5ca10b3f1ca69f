import { createHash } from 'node:crypto';
import type { RolloutWeight } from '../db/schema.js';

const bucketSpace = 2 ** 32;

/**
 * The rollout variant of one subject: SHA-256 of flag key and targeting key picks a point in [0, 1), so a
 * subject keeps its variant on every process and restart, and different flags split subjects independently.
 */
export function rolloutVariant(
  flagKey: string,
  targetingKey: string,
  rollout: readonly RolloutWeight[],
): string | null {
  const total = rollout.reduce((sum, entry) => sum + entry.weight, 0);
  if (total <= 0) return null;
  const digest = createHash('sha256').update(`${flagKey}\n${targetingKey}`).digest();
  const point = (digest.readUInt32BE(0) / bucketSpace) * total;
  let upper = 0;
  for (const entry of rollout) {
    upper += entry.weight;
    if (point < upper) return entry.variant;
  }
  return null;
}
