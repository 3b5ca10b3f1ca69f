import { createHash } from 'node:crypto';
import type { AnalysisReport } from '../pipeline/report.js';
import { canonicalJson, canonicalSha256 } from './canonical-json.js';
import { hashLeaf } from './merkle.js';

export const statementFormat = 'guardian-analysis-statement-v1';

/**
 * What the log signs for one finished analysis. The signed bytes are the UTF-8 of its RFC 8785 (JCS) form,
 * and those same bytes are the transparency log leaf. Field names are a public format: never rename.
 */
export interface AnalysisStatement {
  format: typeof statementFormat;
  analysisId: string;
  /** Lowercase hex SHA-256 of the UTF-8 organisation id: binds the owner without naming it. */
  organisationSha256: string;
  media: { sha256: string };
  /** SHA-256 of the report's RFC 8785 form: the report as the API and the bundle serve it. */
  report: { sha256: string; canonicalization: 'RFC8785' };
  versions: {
    pipeline: string;
    detectors: Record<string, string>;
    /** Organisation models run as detectors: card version and the SHA-256 of the model file. */
    models: Record<string, { version: string; sha256: string }>;
    /** Face model versions and `sha256:` digests of their weights; null when no face search ran. */
    faceModels: Record<string, string> | null;
    ffmpeg: string;
    ffprobe: string;
  };
  /** SHA-256 of the calibration file behind percentiles and probabilities; null without one. */
  calibrationSha256: string | null;
  /** When the analysis finished (database clock, ISO 8601 UTC). */
  completedAt: string;
  /** The log key that signs this statement. */
  keyId: string;
}

export function organisationDigest(orgId: string): string {
  return createHash('sha256').update(orgId, 'utf8').digest('hex');
}

export function buildStatement(input: {
  analysisId: string;
  orgId: string;
  report: AnalysisReport;
  completedAt: Date;
  keyId: string;
}): AnalysisStatement {
  const { report } = input;
  return {
    format: statementFormat,
    analysisId: input.analysisId,
    organisationSha256: organisationDigest(input.orgId),
    media: { sha256: report.media.sha256 },
    report: { sha256: canonicalSha256(report), canonicalization: 'RFC8785' },
    versions: {
      pipeline: report.versions.pipeline,
      detectors: report.versions.detectors,
      models: modelVersions(report),
      faceModels: report.versions.faceModels,
      ffmpeg: report.versions.ffmpeg,
      ffprobe: report.versions.ffprobe,
    },
    calibrationSha256: report.versions.calibration?.sha256 ?? null,
    completedAt: input.completedAt.toISOString(),
    keyId: input.keyId,
  };
}

/** The exact bytes signed and logged. */
export function statementBytes(statement: AnalysisStatement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}

export function statementLeafHash(statement: AnalysisStatement): Buffer {
  return hashLeaf(statementBytes(statement));
}

function modelVersions(report: AnalysisReport): AnalysisStatement['versions']['models'] {
  const models: AnalysisStatement['versions']['models'] = {};
  for (const detector of report.detectors) {
    const { modelVersion, modelSha256 } = detector.measurements;
    if (typeof modelVersion === 'string' && typeof modelSha256 === 'string')
      models[detector.id] = { version: modelVersion, sha256: modelSha256 };
  }
  return models;
}
