import { z } from 'zod';

export const idParams = z.strictObject({ id: z.uuid() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string().optional(),
    instance: z.string().optional(),
  })
  .loose()
  .describe('RFC 9457 problem details');

export const mediaLegalHoldSchema = z
  .object({
    reason: z.string(),
    since: z.iso.datetime(),
    by: z.string().describe('who set it: `user:<id>` or `api-key:<id>`'),
  })
  .describe(
    'while set, the media cannot be deleted by anyone: DELETE, the retention job and erasure skip it',
  );

export const mediaSchema = z.object({
  id: z.uuid(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
  mimeType: z.string(),
  originalFilename: z.string().nullable(),
  createdAt: z.iso.datetime(),
  analysisId: z.uuid().nullable(),
  analysisStatus: z.enum(['queued', 'running', 'done', 'failed']).nullable(),
  legalHold: mediaLegalHoldSchema.nullable().describe('null unless the media is on legal hold'),
});

const coverageSchema = z.object({
  unit: z.string(),
  analysed: z.number(),
  total: z.number(),
  fraction: z.number(),
});

export const detectorResultSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    applicable: z.boolean(),
    reason: z.string().optional(),
    score: z.number().min(0).max(1).nullable(),
    coverage: coverageSchema.nullable(),
    explanation: z.string(),
  })
  .loose();

export const bandSchema = z.enum(['indicators_found', 'inconclusive', 'no_indicators', 'not_analyzable']);

export const analysisSchema = z.object({
  id: z.uuid(),
  mediaId: z.uuid(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.number().int().min(0).max(100).describe('percent'),
  stage: z.string().nullable(),
  pipelineVersion: z.string(),
  band: bandSchema.nullable(),
  reasons: z.array(z.string()),
  detectors: z.array(detectorResultSchema),
  coverage: z.number().min(0).max(1).nullable(),
  versions: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), detail: z.string().nullable() }).nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  report: z.record(z.string(), z.unknown()).nullable().describe('the full report once done'),
  mediaLegalHold: mediaLegalHoldSchema
    .nullable()
    .optional()
    .describe("the analysed media's legal hold (GET /analyses/:id): null when not held"),
});

export const errorResponses = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  413: problemSchema,
  415: problemSchema,
  422: problemSchema,
  429: problemSchema,
  500: problemSchema,
  503: problemSchema,
} as const;

export const artifactSchema = z.object({
  detector: z.string().describe('id of the detector that computed it'),
  name: z.string().describe('file name, unique within the detector'),
  contentType: z.string().describe('as the detector declared it'),
  description: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  href: z.string().nullable().describe('where to fetch the bytes; null when they are not available'),
  unavailableReason: z
    .string()
    .optional()
    .describe('why the bytes are not available (dropped at analysis time, shredded with the media)'),
});

export const analysisArtifactsSchema = z.object({
  analysisId: z.uuid(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  artifacts: z.array(artifactSchema).describe('in report order; empty until the analysis is done'),
});
