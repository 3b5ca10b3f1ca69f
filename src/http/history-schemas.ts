import { z } from 'zod';
import { bandSchema } from './schemas.js';

const analysisStatusSchema = z.enum(['queued', 'running', 'done', 'failed']);

export const historyQuerySchema = z.strictObject({
  cursor: z
    .string()
    .min(1)
    .max(400)
    .optional()
    .describe('`nextCursor` of the previous page (opaque); keep the same filters while paging'),
  limit: z.coerce.number().int().min(1).max(100).default(25).describe('items per page, 1–100'),
  band: bandSchema.optional(),
  status: analysisStatusSchema.optional(),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('created at or after this instant (inclusive), ISO 8601'),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('created before this instant (exclusive), ISO 8601'),
  uploader: z.uuid().optional().describe('id of the person (or API key) who uploaded the media'),
  q: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('case-insensitive substring of the file name; `%` and `_` match only themselves'),
});

export const uploaderSchema = z
  .object({
    type: z.enum(['user', 'api-key']),
    id: z.uuid(),
    label: z.string().nullable().describe("the person's email or the API key's name; null once deleted"),
  })
  .nullable()
  .describe('null for media uploaded before uploaders were recorded');

const nextCursorSchema = z
  .string()
  .nullable()
  .describe('pass as `cursor` for the next page; null on the last page');

export const mediaHistoryItemSchema = z.object({
  id: z.uuid(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
  mimeType: z.string(),
  originalFilename: z.string().nullable(),
  createdAt: z.iso.datetime().describe('when it was uploaded'),
  uploader: uploaderSchema,
  legalHold: z.boolean().describe('on legal hold: it cannot be deleted until an admin releases it'),
  latestAnalysis: z
    .object({ id: z.uuid(), status: analysisStatusSchema, band: bandSchema.nullable() })
    .nullable(),
});

export const mediaPageSchema = z.object({
  items: z.array(mediaHistoryItemSchema),
  nextCursor: nextCursorSchema,
});

export const analysisHistoryItemSchema = z.object({
  id: z.uuid(),
  mediaId: z.uuid(),
  status: analysisStatusSchema,
  band: bandSchema.nullable(),
  progress: z.number().int().min(0).max(100).describe('percent'),
  stage: z.string().nullable(),
  pipelineVersion: z.string(),
  run: z.number().int().min(1).describe('1 for the analysis queued at upload, then one more per re-run'),
  errorCode: z.string().nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  media: z.object({
    originalFilename: z.string().nullable(),
    mimeType: z.string(),
    sizeBytes: z.number().int().nonnegative(),
    uploader: uploaderSchema,
    deleted: z.boolean().describe('the file was deleted; the report stays'),
  }),
});

export const analysisPageSchema = z.object({
  items: z.array(analysisHistoryItemSchema),
  nextCursor: nextCursorSchema,
});
