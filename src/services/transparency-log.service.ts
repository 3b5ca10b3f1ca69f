import type { Logger } from 'pino';
import { canonicalJson } from '../evidence/canonical-json.js';
import { signBytes } from '../evidence/ed25519.js';
import type { LogPublicKey } from '../evidence/evidence-bundle.js';
import { consistencyProof, inclusionProof } from '../evidence/merkle.js';
import {
  buildStatement,
  statementBytes,
  statementLeafHash,
  type AnalysisStatement,
} from '../evidence/statement.js';
import { signTreeHead, treeHeadFormat, type SignedTreeHead } from '../evidence/tree-head.js';
import type { AnalysisReport } from '../pipeline/report.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type {
  LockedLog,
  LogLeafRecord,
  TransparencyLogRepository,
  TreeHeadRecord,
} from '../repositories/transparency-log.repository.js';
import { AppError, badRequest } from './errors.js';
import { createLeafHashCache } from './leaf-hash-cache.js';
import type { LogKeyring } from './log-keyring.js';

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
}

export interface ConsistencyProof {
  fromSize: number;
  toSize: number;
  hashes: string[];
}

// Each timer run logs at most this many older finished analyses, so one run stays short.
const backfillBatch = 50;

export function createTransparencyLogService(deps: {
  log: TransparencyLogRepository;
  analyses: AnalysisRepository;
  keyring: LogKeyring;
  logger: Logger;
  /** Told about each tree head once its transaction committed (anchoring); must not throw. */
  onTreeHeadSigned?: (head: TreeHeadRecord) => Promise<void>;
}) {
  const { log, keyring } = deps;
  const cache = createLeafHashCache();

  /** Signs and stores the head of the tree of this size and root (called under the log lock). */
  async function writeHead(locked: LockedLog, treeSize: number, root: Buffer): Promise<TreeHeadRecord> {
    const key = keyring.current();
    const head = signTreeHead(
      {
        format: treeHeadFormat,
        treeSize,
        rootHash: root.toString('hex'),
        timestamp: (await locked.now()).toISOString(),
        auditHead: await locked.auditHead(),
        keyId: key.keyId,
      },
      key.privateKey,
    );
    return locked.insertTreeHead({
      tree_size: head.treeSize,
      root_hash: head.rootHash,
      signed_at: new Date(head.timestamp),
      audit_seq: head.auditHead?.seq ?? null,
      audit_hash: head.auditHead?.hash ?? null,
      key_id: head.keyId,
      signature: head.signature,
    });
  }

  const committedHashes = (locked: LockedLog, size: number) => cache.upTo(size, locked.leafHashes);

  async function checkedSize(treeSize: number): Promise<number> {
    const size = await log.size();
    if (treeSize > size)
      throw badRequest(
        'tree-size-too-large',
        `the log has ${size} leaves; tree size ${treeSize} is beyond it`,
      );
    return size;
  }

  const service = {
    /**
     * Signs the statement of a finished analysis and appends it as a leaf, with a new tree head, in one
     * transaction. Idempotent: an analysis that already has its leaf keeps it (a job that ran twice).
     */
    async record(analysisId: string): Promise<LogLeafRecord | null> {
      const analysis = await deps.analyses.findByIdUnscoped(analysisId);
      if (analysis?.status !== 'done' || !analysis.report || !analysis.finished_at) return null;
      const existing = await log.findLeafByAnalysis(analysisId);
      if (existing) return existing;
      const key = keyring.current();
      // Built from the report as stored and read back: exactly what the API and bundles serve.
      const statement = buildStatement({
        analysisId,
        orgId: analysis.org_id,
        report: analysis.report as AnalysisReport,
        completedAt: analysis.finished_at,
        keyId: key.keyId,
      });
      let head: TreeHeadRecord | null = null;
      const appended = await log.withLogLock(async (locked) => {
        const found = await locked.findLeaf(analysisId);
        if (found) return found;
        const size = await locked.size();
        await committedHashes(locked, size);
        const leafHash = statementLeafHash(statement);
        const leaf = await locked.insertLeaf({
          leaf_index: size,
          analysis_id: analysisId,
          org_id: analysis.org_id,
          statement: canonicalJson(statement),
          signature: signBytes(key.privateKey, statementBytes(statement)),
          key_id: key.keyId,
          leaf_hash: leafHash.toString('hex'),
        });
        head = await writeHead(locked, size + 1, cache.rootWith(size, leafHash));
        return leaf;
      });
      if (head) await deps.onTreeHeadSigned?.(head);
      return appended;
    },

    /** A new head when leaves, the audit chain or the key moved since the last one; null when none did. */
    async signTreeHeadIfMoved(): Promise<SignedTreeHead | null> {
      const written = await log.withLogLock(async (locked) => {
        const [size, latest, auditHead] = await Promise.all([
          locked.size(),
          locked.latestTreeHead(),
          locked.auditHead(),
        ]);
        const unchanged =
          latest !== null &&
          Number(latest.tree_size) === size &&
          latest.key_id === keyring.current().keyId &&
          (latest.audit_seq === null ? null : Number(latest.audit_seq)) === (auditHead?.seq ?? null) &&
          latest.audit_hash === (auditHead?.hash ?? null);
        if (unchanged) return null;
        return writeHead(locked, size, (await committedHashes(locked, size)).hash(0, size));
      });
      if (written) await deps.onTreeHeadSigned?.(written);
      return written ? toSignedTreeHead(written) : null;
    },

    /** The timer's work: log finished analyses that have no leaf (bounded), then a head if anything moved. */
    async tick(): Promise<{ recorded: number; head: SignedTreeHead | null }> {
      let recorded = 0;
      for (const { id } of await log.findDoneWithoutLeaf(backfillBatch)) {
        // One analysis that cannot be logged must not hold back the others.
        const leaf = await service
          .record(id)
          .catch((error: unknown) =>
            deps.logger.error({ err: error, analysisId: id }, 'statement not logged'),
          );
        if (leaf) recorded += 1;
      }
      if (recorded > 0) deps.logger.info({ recorded }, 'logged statements of finished analyses');
      return { recorded, head: await service.signTreeHeadIfMoved() };
    },

    async latestTreeHead(): Promise<SignedTreeHead | null> {
      const latest = await log.latestTreeHead();
      return latest ? toSignedTreeHead(latest) : null;
    },

    async inclusionProof(leafIndex: number, treeSize: number): Promise<InclusionProof> {
      await checkedSize(treeSize);
      if (leafIndex >= treeSize)
        throw badRequest('leaf-index-out-of-range', `leaf ${leafIndex} is not in a tree of size ${treeSize}`);
      const tree = await cache.upTo(treeSize, log.leafHashes);
      return {
        leafIndex,
        treeSize,
        leafHash: tree.hash(leafIndex, leafIndex + 1).toString('hex'),
        hashes: inclusionProof(leafIndex, tree).map((hash) => hash.toString('hex')),
      };
    },

    async consistencyProof(fromSize: number, toSize: number): Promise<ConsistencyProof> {
      if (fromSize > toSize)
        throw badRequest('tree-size-order', `from (${fromSize}) must not be larger than to (${toSize})`);
      await checkedSize(toSize);
      const tree = await cache.upTo(toSize, log.leafHashes);
      return {
        fromSize,
        toSize,
        hashes: consistencyProof(fromSize, tree).map((hash) => hash.toString('hex')),
      };
    },

    /** Every key the log has signed with, retired ones included. */
    async publicKeys(): Promise<(LogPublicKey & { createdAt: Date; retiredAt: Date | null })[]> {
      return (await log.listKeys()).map((key) => ({
        keyId: key.key_id,
        algorithm: 'Ed25519' as const,
        publicKey: key.public_key,
        createdAt: key.created_at,
        retiredAt: key.retired_at,
      }));
    },

    /** The leaf of an analysis and the statement in it, or a 409 while none exists yet. */
    async leafFor(analysisId: string): Promise<{ leaf: LogLeafRecord; statement: AnalysisStatement }> {
      const leaf = (await log.findLeafByAnalysis(analysisId)) ?? (await service.record(analysisId));
      if (!leaf)
        throw new AppError(409, 'evidence-not-ready', 'Evidence not ready', 'the analysis has not finished');
      return { leaf, statement: JSON.parse(leaf.statement) as AnalysisStatement };
    },
  };
  return service;
}

export function toSignedTreeHead(record: TreeHeadRecord): SignedTreeHead {
  return {
    format: treeHeadFormat,
    treeSize: Number(record.tree_size),
    rootHash: record.root_hash,
    timestamp: record.signed_at.toISOString(),
    auditHead:
      record.audit_seq === null || record.audit_hash === null
        ? null
        : { seq: Number(record.audit_seq), hash: record.audit_hash },
    keyId: record.key_id,
    signature: record.signature,
  };
}

export type TransparencyLogService = ReturnType<typeof createTransparencyLogService>;
