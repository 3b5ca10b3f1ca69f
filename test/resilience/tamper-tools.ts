import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { auditEntryHash } from '../../src/services/audit-chain.js';
import type { AuditActorType, AuditDetailValue } from '../../src/db/audit-schema.js';

/** What a client got: the status, the problem code if any, the bytes received, and whether the body broke off. */
export interface Answer {
  status: number;
  code: string | null;
  bytes: Buffer;
  /** Set when the body ended before Content-Length (the server cut the connection). */
  cut: string | null;
  contentLength: number | null;
}

/** Reads a reply to the end, keeping what arrived before a cut connection. */
export async function fetchAnswer(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const chunks: Buffer[] = [];
  let cut: string | null = null;
  try {
    for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
  } catch (error) {
    cut = String((error as Error).cause ?? (error as Error).message);
  }
  const bytes = Buffer.concat(chunks);
  const problem = response.headers.get('content-type')?.startsWith('application/problem+json');
  const length = response.headers.get('content-length');
  return {
    status: response.status,
    code:
      problem && cut === null
        ? ((JSON.parse(bytes.toString('utf8')) as { code?: string }).code ?? null)
        : null,
    bytes,
    cut,
    contentLength: length === null ? null : Number(length),
  };
}

/** How a read of tampered stored bytes ended, in words for the figures table. */
export function howRefused(answer: Answer): string {
  if (answer.code) return `${answer.status} ${answer.code}`;
  if (answer.cut)
    return `${answer.status}, cut after ${answer.bytes.length} of ${answer.contentLength} bytes`;
  return `${answer.status}, ${answer.bytes.length} bytes served`;
}

/**
 * True when the read failed loudly without a byte that differs from the genuine content: a problem with the
 * expected code, or a reply cut short whose bytes are a prefix of the genuine ones (authenticated segments).
 */
export function refusedWithoutAlteredBytes(answer: Answer, code: string, genuine: Buffer): boolean {
  if (answer.status === 500 && answer.code === code) return true;
  const prefix = genuine.subarray(0, answer.bytes.length);
  return answer.cut !== null && answer.status < 300 && answer.bytes.equals(prefix);
}

export function blobPath(dataDir: string, key: string): string {
  return join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`);
}

export function flipped(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

/** Runs `work` with files replaced by other contents, then puts the original bytes back whatever happened. */
export async function withFilesReplaced<T>(
  replacements: Map<string, Buffer>,
  work: () => Promise<T>,
): Promise<T> {
  const originals = new Map([...replacements.keys()].map((path) => [path, readFileSync(path)]));
  try {
    for (const [path, bytes] of replacements) writeFileSync(path, bytes);
    return await work();
  } finally {
    for (const [path, bytes] of originals) writeFileSync(path, bytes);
  }
}

/** Runs `sql` with the append-only triggers of `table` off, as only its owner could (the attack being modelled). */
export async function asTableOwner(
  client: pg.Client,
  table: string,
  statements: () => Promise<void>,
): Promise<void> {
  await client.query(`alter table ${table} disable trigger user`);
  try {
    await statements();
  } finally {
    await client.query(`alter table ${table} enable trigger user`);
  }
}

interface AuditRow {
  seq: string;
  id: string;
  at: Date;
  org_id: string | null;
  actor_type: AuditActorType;
  actor_id: string | null;
  action: string;
  outcome: 'success' | 'failure';
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, AuditDetailValue>;
  prev_hash: string;
  hash: string;
}

/**
 * What someone with full control of the database can do that `audit verify` cannot see: edit entry `fromSeq`
 * and recompute every hash from there to the end, so the chain is consistent again.
 */
export async function rewriteAuditChainFrom(client: pg.Client, fromSeq: number): Promise<void> {
  const rows = (
    await client.query<AuditRow>('select * from audit_events where seq >= $1 order by seq', [fromSeq - 1])
  ).rows;
  let prevHash = rows[0]!.hash;
  for (const row of rows.slice(1)) {
    const action = Number(row.seq) === fromSeq ? `${row.action}x` : row.action;
    const hash = auditEntryHash({
      seq: Number(row.seq),
      id: row.id,
      at: row.at,
      orgId: row.org_id,
      actorType: row.actor_type,
      actorId: row.actor_id,
      action,
      outcome: row.outcome,
      targetType: row.target_type,
      targetId: row.target_id,
      ip: row.ip,
      userAgent: row.user_agent,
      details: row.details,
      prevHash,
    });
    await client.query('update audit_events set action = $2, prev_hash = $3, hash = $4 where seq = $1', [
      row.seq,
      action,
      prevHash,
      hash,
    ]);
    prevHash = hash;
  }
}
