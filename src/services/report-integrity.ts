import type { Logger } from 'pino';
import type { Analysis } from '../db/schema.js';
import { reportMismatch, type StoredReport } from '../evidence/report-binding.js';
import type { AnalysisStatement } from '../evidence/statement.js';
import type {
  LogLeafRecord,
  TransparencyLogRepository,
} from '../repositories/transparency-log.repository.js';
import { AppError } from './errors.js';
import { leafProblem } from './log-monitor.js';

export const reportIntegrityError = () =>
  new AppError(
    500,
    'report-integrity',
    'Stored report failed its integrity check',
    'the stored report does not match its signed statement in the transparency log (damaged or tampered with); it was not served',
  );

/**
 * Every read of a finished report goes through `check`: the report and band as stored must be the ones the
 * analysis's signed, logged statement hashes, and the statement must match its leaf hash and signature.
 * An analysis not logged yet (the tree-head timer logs it shortly) has nothing to check against.
 */
export function createReportIntegrity(deps: {
  log: Pick<TransparencyLogRepository, 'findLeafByAnalysis' | 'listKeys'>;
  logger: Logger;
}) {
  // Log keys are immutable once written; retired keys stay, so a key once seen never changes.
  const keys = new Map<string, Buffer>();

  async function keyOf(keyId: string): Promise<Map<string, Buffer>> {
    if (!keys.has(keyId))
      for (const key of await deps.log.listKeys())
        keys.set(key.key_id, Buffer.from(key.public_key, 'base64'));
    return keys;
  }

  function problemOf(analysis: StoredReport, leaf: LogLeafRecord, known: Map<string, Buffer>): string | null {
    const leafFault = leafProblem(leaf, known, true);
    if (leafFault) return `its log leaf ${leaf.leaf_index}: ${leafFault.message}`;
    return reportMismatch(analysis, JSON.parse(leaf.statement) as AnalysisStatement);
  }

  return {
    /** Throws 500 `report-integrity` when the finished analysis's report was altered after it was signed. */
    async check(analysis: Analysis): Promise<void> {
      if (analysis.status !== 'done' || analysis.report === null) return;
      const leaf = await deps.log.findLeafByAnalysis(analysis.id);
      if (!leaf) return;
      const problem = problemOf(analysis, leaf, await keyOf(leaf.key_id));
      if (!problem) return;
      deps.logger.error(
        { analysisId: analysis.id, leafIndex: Number(leaf.leaf_index), problem },
        'stored report failed its integrity check; not served',
      );
      throw reportIntegrityError();
    },
  };
}

export type ReportIntegrity = ReturnType<typeof createReportIntegrity>;
