import type { Analysis } from '../db/schema.js';
import { canonicalSha256 } from './canonical-json.js';
import { organisationDigest, type AnalysisStatement } from './statement.js';

export type StoredReport = Pick<Analysis, 'id' | 'org_id' | 'status' | 'band' | 'report'>;

/**
 * Why a finished analysis's stored report is not the one its signed statement hashes, or null when it is.
 * The band column is checked too: lists show it without reading the report.
 */
export function reportMismatch(analysis: StoredReport, statement: AnalysisStatement): string | null {
  if (statement.analysisId !== analysis.id) return 'the statement names another analysis';
  // A finished analysis never changes state again (re-analysis makes a new row).
  if (analysis.status !== 'done')
    return `the analysis is ${analysis.status}, but its statement says it finished`;
  if (statement.organisationSha256 !== organisationDigest(analysis.org_id))
    return 'the statement names another organisation';
  let sha256: string;
  try {
    sha256 = canonicalSha256(analysis.report);
  } catch {
    return 'the stored report is not JSON';
  }
  if (sha256 !== statement.report?.sha256)
    return `the stored report hashes to ${sha256}, the signed statement says ${String(statement.report?.sha256)}`;
  const reportBand = (analysis.report as { band?: unknown } | null)?.band;
  if (analysis.band !== reportBand)
    return `the stored band ${String(analysis.band)} differs from the report's ${String(reportBand)}`;
  return null;
}
