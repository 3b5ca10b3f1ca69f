import { canonicalJson } from '../evidence/canonical-json.js';
import { verifySignature } from '../evidence/ed25519.js';
import { hashLeaf, prefixRoots } from '../evidence/merkle.js';
import { reportMismatch } from '../evidence/report-binding.js';
import { verifyTreeHeadSignature } from '../evidence/tree-head.js';
import type {
  LogLeafRecord,
  TransparencyLogRepository,
  TreeHeadRecord,
} from '../repositories/transparency-log.repository.js';
import { toSignedTreeHead } from './transparency-log.service.js';

export type LogProblemKind =
  | 'leaf-missing'
  | 'leaf-altered'
  | 'leaf-signature'
  | 'report-altered'
  | 'audit-head'
  | 'head-signature'
  | 'head-beyond-log'
  | 'head-root'
  | 'head-rollback'
  | 'fork';

export interface LogProblem {
  kind: LogProblemKind;
  /** The first leaf index the problem touches, when one can be named. */
  index: number | null;
  message: string;
}

export interface LogCheckResult {
  ok: boolean;
  leaves: number;
  heads: number;
  /** The newest head, to note somewhere else: a later check against it also proves nothing was cut. */
  latest: { treeSize: number; rootHash: string } | null;
  firstBadIndex: number | null;
  problems: LogProblem[];
}

const batchSize = 1000;

/**
 * `guardian log check`: re-derives the tree from the stored leaves (never from cached hashes), checks each
 * leaf's hash and signature, each tree head's signature, its root against the re-derived one and against the
 * head before it, and looks for forks (two roots for one size); and each leaf's statement against the report
 * stored for its analysis (a report edited after it was signed). Leaves and heads below `fromSize` are only
 * hashed, not signature-checked. A leaf whose analysis has no row is not checked against a report.
 */
export async function checkTransparencyLog(
  deps: { log: TransparencyLogRepository },
  options: { fromSize?: number } = {},
): Promise<LogCheckResult> {
  const fromSize = options.fromSize ?? 0;
  const keys = new Map(
    (await deps.log.listKeys()).map((key) => [key.key_id, Buffer.from(key.public_key, 'base64')]),
  );
  const problems: LogProblem[] = [];
  const report = (kind: LogProblemKind, index: number | null, message: string) =>
    problems.push({ kind, index, message });

  const hashes: Buffer[] = [];
  for (let after = 0; ;) {
    const batch = await deps.log.readLeaves(after, batchSize);
    const reports = new Map(
      (await deps.log.findReports(batch.map((row) => row.analysis_id))).map((stored) => [stored.id, stored]),
    );
    for (const row of batch) {
      const position = hashes.length;
      const index = Number(row.leaf_index);
      if (index !== position)
        report('leaf-missing', position, `leaf ${position} is missing: the next stored leaf is ${index}`);
      hashes.push(hashLeaf(Buffer.from(row.statement, 'utf8')));
      const problem = leafProblem(row, keys, position >= fromSize);
      if (problem) report(problem.kind, position, `leaf ${index}: ${problem.message}`);
      // Reports are checked at every size: an edit to an old report is as bad as to a new one.
      const stored = reports.get(row.analysis_id);
      const mismatch = problem || !stored ? null : reportMismatch(stored, JSON.parse(row.statement));
      if (mismatch)
        report(
          'report-altered',
          position,
          `leaf ${index}: report of analysis ${row.analysis_id}: ${mismatch}`,
        );
    }
    if (batch.length < batchSize) break;
    after = Number(batch[batch.length - 1]!.leaf_index) + 1;
  }

  const heads: TreeHeadRecord[] = [];
  for (let afterId = 0; ;) {
    const batch = await deps.log.readTreeHeads(afterId, batchSize);
    heads.push(...batch);
    if (batch.length < batchSize) break;
    afterId = Number(batch[batch.length - 1]!.id);
  }
  const roots = prefixRoots(
    hashes,
    heads.map((head) => Number(head.tree_size)),
  );
  const matchingSizes = heads
    .filter((head) => roots.get(Number(head.tree_size))?.toString('hex') === head.root_hash)
    .map((head) => Number(head.tree_size));
  // With a head after every append, the largest good size below a bad head is exactly the first bad leaf.
  const firstBadLeafBelow = (size: number) => Math.max(0, ...matchingSizes.filter((good) => good < size));

  let previous: TreeHeadRecord | null = null;
  const rootsBySize = new Map<number, Set<string>>();
  for (const head of heads) {
    const size = Number(head.tree_size);
    rootsBySize.set(size, (rootsBySize.get(size) ?? new Set()).add(head.root_hash));
    const label = `tree head ${head.id} (size ${size}, ${head.signed_at.toISOString()})`;
    if (previous && size < Number(previous.tree_size))
      report(
        'head-rollback',
        size,
        `${label} is smaller than the head before it (size ${previous.tree_size}): history was rewritten`,
      );
    previous = head;
    if (size < fromSize) continue;
    const key = keys.get(head.key_id);
    if (!key || !verifyTreeHeadSignature(toSignedTreeHead(head), key))
      report(
        'head-signature',
        null,
        `${label}: ${key ? 'its signature does not verify' : `signed by unknown key ${head.key_id}`}`,
      );
    const derived = roots.get(size);
    if (!derived) {
      report(
        'head-beyond-log',
        hashes.length,
        `${label} covers leaves ${hashes.length}–${size - 1}, which are not in the log (removed)`,
      );
    } else if (derived.toString('hex') !== head.root_hash) {
      const index = firstBadLeafBelow(size);
      report(
        'head-root',
        index,
        `${label}: the stored leaves give root ${derived.toString('hex')}, the head says ${head.root_hash}: leaves from ${index} on were edited, removed or reordered`,
      );
    }
  }
  const auditSeqs = [
    ...new Set(heads.flatMap((head) => (head.audit_seq === null ? [] : [Number(head.audit_seq)]))),
  ];
  const auditHashes = await deps.log.auditHashes(auditSeqs);
  for (const head of heads) {
    if (head.audit_seq === null || Number(head.tree_size) < fromSize) continue;
    const seq = Number(head.audit_seq);
    const stored = auditHashes.get(seq);
    // `guardian audit verify` finds an edit inside the chain; only the signed heads catch a chain rewritten whole.
    if (stored !== head.audit_hash)
      report(
        'audit-head',
        null,
        `tree head ${head.id} signed audit entry ${seq} with hash ${head.audit_hash}; the audit log's entry ${seq} ${stored === undefined ? 'is missing' : `has hash ${stored}`}: the audit chain was rewritten at or before entry ${seq}`,
      );
  }
  for (const [size, sizeRoots] of rootsBySize) {
    if (sizeRoots.size > 1)
      report(
        'fork',
        null,
        `fork: ${sizeRoots.size} different roots were signed for size ${size} (${[...sizeRoots].join(', ')})`,
      );
  }

  const indices = problems.map((problem) => problem.index).filter((index): index is number => index !== null);
  const latest = heads.at(-1);
  return {
    ok: problems.length === 0,
    leaves: hashes.length,
    heads: heads.length,
    latest: latest ? { treeSize: Number(latest.tree_size), rootHash: latest.root_hash } : null,
    firstBadIndex: indices.length > 0 ? Math.min(...indices) : null,
    problems,
  };
}

/** What is wrong with one stored leaf (hash, canonical form, row fields, signature), or null. */
export function leafProblem(
  row: LogLeafRecord,
  keys: Map<string, Buffer>,
  checkSignature: boolean,
): { kind: LogProblemKind; message: string } | null {
  if (hashLeaf(Buffer.from(row.statement, 'utf8')).toString('hex') !== row.leaf_hash)
    return { kind: 'leaf-altered', message: 'its statement does not match its stored leaf hash' };
  let statement: { analysisId?: unknown; keyId?: unknown };
  try {
    statement = JSON.parse(row.statement) as typeof statement;
    if (canonicalJson(statement) !== row.statement) throw new Error('not canonical');
  } catch {
    return { kind: 'leaf-altered', message: 'its statement is not RFC 8785 JSON' };
  }
  if (statement.analysisId !== row.analysis_id || statement.keyId !== row.key_id)
    return { kind: 'leaf-altered', message: 'its statement names another analysis or key than its row' };
  if (!checkSignature) return null;
  const key = keys.get(row.key_id);
  if (!key || !verifySignature(key, Buffer.from(row.statement, 'utf8'), row.signature))
    return {
      kind: 'leaf-signature',
      message: key ? 'its signature does not verify' : `unknown key ${row.key_id}`,
    };
  return null;
}
