import type { z } from 'zod';
import type { Analysis, Media } from '../db/schema.js';
import { cleanFilename } from '../media/filename.js';
import type { UserSummary } from '../repositories/user.repository.js';
import type { AnalysisReport } from '../pipeline/report.js';
import { legalHoldOf } from '../repositories/retention.repository.js';
import type { analysisSchema, mediaLegalHoldSchema, mediaSchema } from './schemas.js';

export function mediaView(media: Media, analysis: Analysis | null): z.infer<typeof mediaSchema> {
  return {
    id: media.id,
    sha256: media.sha256,
    sizeBytes: Number(media.size_bytes),
    mimeType: media.mime_type,
    // Names stored before names were cleaned at intake are cleaned on the way out too.
    originalFilename: cleanFilename(media.original_filename),
    createdAt: media.created_at.toISOString(),
    analysisId: analysis?.id ?? null,
    analysisStatus: analysis?.status ?? null,
    legalHold: legalHoldView(media),
  };
}

/** The media's legal hold as the API shows it; null when it is not held. */
export function legalHoldView(media: Media): z.infer<typeof mediaLegalHoldSchema> | null {
  const hold = legalHoldOf(media);
  return hold ? { reason: hold.reason, since: hold.at.toISOString(), by: hold.by } : null;
}

export function analysisView(analysis: Analysis): z.infer<typeof analysisSchema> {
  const report = analysis.report as AnalysisReport | null;
  return {
    id: analysis.id,
    mediaId: analysis.media_id,
    status: analysis.status,
    progress: Math.round(Math.min(1, Math.max(0, analysis.progress)) * 100),
    stage: analysis.stage,
    pipelineVersion: analysis.pipeline_version,
    band: (report?.band ?? null) as z.infer<typeof analysisSchema>['band'],
    reasons: report?.reasons ?? [],
    detectors: (report?.detectors ?? []) as unknown as z.infer<typeof analysisSchema>['detectors'],
    coverage: report?.coverage ?? null,
    versions: report?.versions ?? null,
    error: analysis.error_code ? { code: analysis.error_code, detail: analysis.error_detail } : null,
    createdAt: analysis.created_at.toISOString(),
    startedAt: analysis.started_at?.toISOString() ?? null,
    finishedAt: analysis.finished_at?.toISOString() ?? null,
    report: report as unknown as Record<string, unknown> | null,
  };
}

export function userView(user: UserSummary) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    status: user.status,
    orgId: user.org_id,
    createdAt: user.created_at.toISOString(),
    updatedAt: user.updated_at.toISOString(),
    passwordChangedAt: user.password_changed_at.toISOString(),
  };
}
