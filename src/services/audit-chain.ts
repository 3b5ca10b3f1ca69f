import { createHash } from 'node:crypto';
import type { AuditActorType, AuditDetailValue } from '../db/audit-schema.js';

/** prev_hash of the first entry. */
export const genesisHash = '0'.repeat(64);

/** Named inside every hashed entry, so a future format can never be confused with this one. */
export const auditChainFormat = 'guardian-audit-v1';

/** Every field that is hashed; nothing else in a row is. */
export interface ChainedAuditEntry {
  seq: number;
  id: string;
  at: Date;
  orgId: string | null;
  actorType: AuditActorType;
  actorId: string | null;
  action: string;
  outcome: 'success' | 'failure';
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, AuditDetailValue>;
  prevHash: string;
}

/**
 * The exact bytes that are hashed: a JSON object holding every field (absent values as explicit null),
 * `at` as ISO 8601 UTC with milliseconds, and keys sorted at every level, without whitespace. For these
 * value types this is RFC 8785 (JCS), so a verifier in another language can rebuild it.
 */
export function canonicalAuditEntry(entry: ChainedAuditEntry): string {
  return canonicalJson({
    format: auditChainFormat,
    seq: entry.seq,
    id: entry.id,
    at: entry.at.toISOString(),
    orgId: entry.orgId,
    actorType: entry.actorType,
    actorId: entry.actorId,
    action: entry.action,
    outcome: entry.outcome,
    targetType: entry.targetType,
    targetId: entry.targetId,
    ip: entry.ip,
    userAgent: entry.userAgent,
    details: entry.details,
    prevHash: entry.prevHash,
  });
}

/** hash = hex(SHA-256(UTF-8(canonicalAuditEntry(entry)))). */
export function auditEntryHash(entry: ChainedAuditEntry): string {
  return createHash('sha256').update(canonicalAuditEntry(entry), 'utf8').digest('hex');
}

type CanonicalValue = AuditDetailValue | { [key: string]: CanonicalValue };

function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value);
  }
  // Default sort compares UTF-16 code units, which is what RFC 8785 prescribes.
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as CanonicalValue)}`).join(',')}}`;
}
