import { randomUUID } from 'node:crypto';
import type { AuditActorType, AuditDetailValue } from '../db/audit-schema.js';
import type { Executor } from '../db/executor.js';
import type { AuditEventRecord, AuditRepository, ChainRecord } from '../repositories/audit.repository.js';
import { isUuid } from '../repositories/is-uuid.js';
import { auditEntryHash, genesisHash } from './audit-chain.js';
import type { AuditActor, AuditEvent, AuditLog } from './audit-log.js';
import { AppError, badRequest } from './errors.js';

export type AuditVerification =
  | { ok: true; count: number; head: { seq: number; hash: string } | null }
  | { ok: false; firstBadSeq: number; reason: string };

export interface AuditRecord {
  id: string;
  at: Date;
  orgId: string | null;
  actor: { type: AuditActorType; id: string | null };
  action: string;
  outcome: 'success' | 'failure';
  target: { type: string; id: string } | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, AuditDetailValue>;
  hash: string;
}

export interface AuditPage {
  events: AuditRecord[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface AuditLogService extends AuditLog {
  /** With a transaction as `executor`, the entry commits or rolls back with the caller's change. */
  append(event: AuditEvent, executor?: Executor): Promise<void>;
  /** An organisation's events, newest first; `before` is a cursor from a previous page. */
  list(query: { orgId: string; before?: string; limit: number }): Promise<AuditPage>;
  /** Recomputes the whole chain; reports the first entry that is missing, altered or out of place. */
  verify(): Promise<AuditVerification>;
}

const actionPattern = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
const limits = { action: 100, actorId: 200, targetType: 64, targetId: 200, ip: 64, userAgent: 512 };
const detailLimits = { keys: 32, keyLength: 64, valueLength: 256 };
// Defence in depth: callers must not pass secrets, but a value under a key named like one never reaches
// the log. Short words count as whole words only (`codec`, `monkey` stay), the rest anywhere in the key.
const secretWords = new Set(['pass', 'pwd', 'key', 'keys', 'code', 'codes', 'otp', 'totp', 'pin', 'mfa']);
const secretFragment =
  /passw|passphrase|secret|token|apikey|cookie|credential|authori[sz]ation|bearer|private/;
const apiKeyValuePattern = /sag_[A-Za-z0-9_-]{8,}/g;
const verifyBatchSize = 1000;

export function createAuditLogService(deps: { audit: AuditRepository }): AuditLogService {
  const { audit } = deps;
  return {
    async append(event, executor) {
      const fields = normaliseEvent(event);
      await audit.append(({ last, now }) => {
        const seq = last ? last.seq + 1 : 1;
        const prevHash = last ? last.hash : genesisHash;
        const entry = { ...fields, seq, id: randomUUID(), at: now, prevHash };
        return {
          seq,
          id: entry.id,
          at: now,
          org_id: entry.orgId,
          actor_type: entry.actorType,
          actor_id: entry.actorId,
          action: entry.action,
          outcome: entry.outcome,
          target_type: entry.targetType,
          target_id: entry.targetId,
          ip: entry.ip,
          user_agent: entry.userAgent,
          details: JSON.stringify(entry.details),
          prev_hash: prevHash,
          hash: auditEntryHash(entry),
        };
      }, executor);
    },

    async list({ orgId, before, limit }) {
      let beforeSeq: number | undefined;
      if (before !== undefined) {
        const found = await audit.findSeq(orgId, before);
        if (found === null) throw badRequest('invalid-cursor', 'the cursor does not name an event of yours');
        beforeSeq = found;
      }
      const rows = await audit.listByOrg(orgId, { beforeSeq, limit: limit + 1 });
      // Each served entry must still match its own hash; the links between entries are `verify`'s work.
      const altered = rows.slice(0, limit).find((row) => storedEntryHash(row) !== row.hash);
      if (altered) throw auditIntegrityError(altered.id);
      const events = rows.slice(0, limit).map(toRecord);
      return { events, nextCursor: rows.length > limit ? (events.at(-1)?.id ?? null) : null };
    },

    async verify() {
      let expectedSeq = 1;
      let expectedPrev = genesisHash;
      for (;;) {
        const batch = await audit.readChain(expectedSeq - 1, verifyBatchSize);
        for (const row of batch) {
          const problem = checkEntry(row, expectedSeq, expectedPrev);
          if (problem) return { ok: false, ...problem };
          expectedPrev = row.hash;
          expectedSeq += 1;
        }
        if (batch.length < verifyBatchSize) break;
      }
      const count = expectedSeq - 1;
      return { ok: true, count, head: count > 0 ? { seq: count, hash: expectedPrev } : null };
    },
  };
}

function checkEntry(
  row: ChainRecord,
  expectedSeq: number,
  expectedPrev: string,
): { firstBadSeq: number; reason: string } | null {
  const seq = Number(row.seq);
  if (seq !== expectedSeq) {
    const missing =
      seq - 1 === expectedSeq ? `entry ${expectedSeq} is` : `entries ${expectedSeq}–${seq - 1} are`;
    return { firstBadSeq: expectedSeq, reason: `${missing} missing (removed); the next entry is ${seq}` };
  }
  if (storedEntryHash(row) !== row.hash || row.at_has_sub_ms) {
    return { firstBadSeq: seq, reason: `entry ${seq} was altered: its contents do not match its hash` };
  }
  if (row.prev_hash !== expectedPrev) {
    return {
      firstBadSeq: seq,
      reason: `entry ${seq} does not follow entry ${seq - 1}: its prev_hash differs (entries inserted, removed or reordered)`,
    };
  }
  return null;
}

/** The hash of a stored entry's contents as they are now: differs from its `hash` once a field was edited. */
function storedEntryHash(row: AuditEventRecord): string {
  return auditEntryHash({
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    orgId: row.org_id,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    outcome: row.outcome,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
    prevHash: row.prev_hash,
  });
}

export const auditIntegrityError = (entryId: string) =>
  new AppError(
    500,
    'audit-integrity',
    'Audit log failed its integrity check',
    `audit entry ${entryId} does not match its hash: the log was altered and is not served; an operator should run 'guardian audit verify'`,
  );

function toRecord(row: AuditEventRecord): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    orgId: row.org_id,
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    outcome: row.outcome,
    target:
      row.target_type !== null && row.target_id !== null
        ? { type: row.target_type, id: row.target_id }
        : null,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
    hash: row.hash,
  };
}

/** Validates what only a programming error gets wrong; bounds and cleans what may come from a client. */
function normaliseEvent(event: AuditEvent) {
  if (!actionPattern.test(event.action) || event.action.length > limits.action)
    throw new TypeError(`invalid audit action "${event.action.slice(0, limits.action)}"`);
  if (event.orgId !== null && !isUuid(event.orgId)) throw new TypeError('audit orgId must be a uuid or null');
  if (event.outcome !== 'success' && event.outcome !== 'failure')
    throw new TypeError('invalid audit outcome');
  return {
    orgId: event.orgId?.toLowerCase() ?? null,
    ...normaliseActor(event.actor),
    action: event.action,
    outcome: event.outcome,
    targetType: event.target ? bounded(event.target.type, limits.targetType) : null,
    targetId: event.target ? bounded(event.target.id, limits.targetId) : null,
    ip: event.ip ? bounded(event.ip, limits.ip) : null,
    userAgent: event.userAgent ? bounded(event.userAgent, limits.userAgent) : null,
    details: sanitiseAuditDetails(event.details ?? {}),
  };
}

function normaliseActor(actor: AuditActor): { actorType: AuditActorType; actorId: string | null } {
  switch (actor.type) {
    case 'user':
    case 'api-key':
      if (typeof actor.id !== 'string' || actor.id.length === 0)
        throw new TypeError(`${actor.type} actor needs an id`);
      return { actorType: actor.type, actorId: bounded(actor.id, limits.actorId) };
    case 'cli':
    case 'anonymous':
    case 'system':
      return { actorType: actor.type, actorId: null };
    default:
      throw new TypeError('invalid audit actor');
  }
}

/** Secret-looking keys are redacted, strings cleaned and truncated, the number of keys bounded. */
export function sanitiseAuditDetails(details: Record<string, unknown>): Record<string, AuditDetailValue> {
  const entries = Object.entries(details)
    .slice(0, detailLimits.keys)
    .map(([rawKey, value]): [string, AuditDetailValue] => {
      const key = bounded(rawKey, detailLimits.keyLength);
      if (isSecretKey(key)) return [key, '[redacted]'];
      return [key, detailValue(value)];
    });
  // fromEntries defines own properties, so even a `__proto__` key stays plain data.
  return Object.fromEntries(entries);
}

function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => secretWords.has(word)) || secretFragment.test(key.toLowerCase());
}

function detailValue(value: unknown): AuditDetailValue {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string')
    return bounded(value.replace(apiKeyValuePattern, 'sag_[redacted]'), detailLimits.valueLength);
  return '[unsupported value]';
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Truncated, and as PostgreSQL will store and return it: NUL (refused by jsonb) and lone surrogates
 * (re-encoded as U+FFFD by the driver) become U+FFFD, so the hash covers exactly what is read back.
 */
function bounded(value: string, max: number): string {
  const truncated = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  return truncated.replaceAll('\0', '\uFFFD').replace(loneSurrogate, '\uFFFD');
}
