import { z } from 'zod';
import { retentionDaysBounds } from '../services/retention.service.js';
import { bandSchema, mediaLegalHoldSchema } from './schemas.js';

const isoTime = z.iso.datetime();

export const legalHoldSchema = mediaLegalHoldSchema;

export const legalHoldBody = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .describe('why the media is held (a case, a request), shown to readers'),
});

export const legalHoldResponse = z.object({ mediaId: z.uuid(), legalHold: legalHoldSchema });

export const retentionPolicySchema = z.object({
  mediaRetentionDays: z
    .number()
    .int()
    .nullable()
    .describe('media is crypto-shredded this many days after upload; null keeps it until deleted'),
  updatedAt: isoTime.nullable().describe('when an admin last set the policy; null while never set'),
});

export const retentionPolicyBody = z.strictObject({
  mediaRetentionDays: z.number().int().min(retentionDaysBounds.min).max(retentionDaysBounds.max).nullable(),
});

export const erasureBody = z.strictObject({
  confirmEmail: z.string().min(1).max(320).describe("the account's current email, repeated as confirmation"),
});

export const erasureResult = z.object({
  userId: z.uuid(),
  shredded: z.array(z.uuid()).describe('media crypto-shredded now'),
  heldBack: z
    .array(z.object({ mediaId: z.uuid(), reason: z.string() }))
    .describe('media left stored because it is on legal hold; erase again once released'),
  sessionsEnded: z.number().int().nonnegative(),
});

const analysisStatus = z.enum(['queued', 'running', 'done', 'failed']);

export const userExportSchema = z.object({
  format: z.literal('secureai-guardian-user-export/1'),
  exportedAt: isoTime,
  user: z.object({
    id: z.uuid(),
    email: z.string(),
    role: z.enum(['admin', 'analyst', 'viewer', 'auditor']),
    status: z.enum(['active', 'disabled']),
    createdAt: isoTime,
    updatedAt: isoTime,
    passwordChangedAt: isoTime,
  }),
  organisation: z.object({ id: z.uuid(), name: z.string().nullable() }),
  twoFactor: z.object({
    enrolled: z.boolean(),
    enrolledAt: isoTime.nullable(),
    unusedRecoveryCodes: z.number().int().nonnegative(),
  }),
  sessions: z.array(
    z.object({
      id: z.uuid(),
      stage: z.enum(['second-factor', 'complete']),
      createdAt: isoTime,
      lastSeenAt: isoTime,
      absoluteExpiresAt: isoTime,
      revokedAt: isoTime.nullable(),
      ip: z.string().nullable(),
      userAgent: z.string().nullable(),
    }),
  ),
  apiKeysCreated: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      prefix: z.string(),
      role: z.enum(['admin', 'analyst', 'viewer', 'auditor']),
      createdAt: isoTime,
      lastUsedAt: isoTime.nullable(),
      expiresAt: isoTime.nullable(),
      revokedAt: isoTime.nullable(),
    }),
  ),
  uploads: z.array(
    z.object({
      id: z.uuid(),
      sha256: z.string(),
      sizeBytes: z.number().int().nonnegative(),
      mimeType: z.string(),
      originalFilename: z.string().nullable(),
      status: z.enum(['stored', 'deleted']),
      legalHold: z.boolean(),
      uploadedAt: isoTime,
      deletedAt: isoTime.nullable(),
      analyses: z.array(
        z.object({
          id: z.uuid(),
          status: analysisStatus,
          band: bandSchema.nullable(),
          pipelineVersion: z.string(),
          createdAt: isoTime,
          finishedAt: isoTime.nullable(),
        }),
      ),
    }),
  ),
  auditEntries: z.array(
    z.object({
      id: z.uuid(),
      at: isoTime,
      orgId: z.uuid().nullable(),
      actor: z.object({ type: z.string(), id: z.string().nullable() }),
      action: z.string(),
      outcome: z.enum(['success', 'failure']),
      target: z.object({ type: z.string(), id: z.string() }).nullable(),
      ip: z.string().nullable(),
      userAgent: z.string().nullable(),
      details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    }),
  ),
  truncated: z
    .object({ uploads: z.boolean(), auditEntries: z.boolean() })
    .describe('true when more than 10 000 rows of that kind exist and only the first were exported'),
});
