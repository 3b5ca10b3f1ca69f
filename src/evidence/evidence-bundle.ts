import { z } from 'zod';
import { canonicalBase64 as base64 } from './base64-schema.js';
import { anchorSchema } from './bundle-anchors.js';
import { statementFormat } from './statement.js';
import { treeHeadFormat } from './tree-head.js';

export const bundleFormat = 'guardian-evidence-bundle-v1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
const treeSize = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const statementSchema = z.strictObject({
  format: z.literal(statementFormat),
  analysisId: z.uuid(),
  organisationSha256: sha256Hex,
  media: z.strictObject({ sha256: sha256Hex }),
  report: z.strictObject({ sha256: sha256Hex, canonicalization: z.literal('RFC8785') }),
  versions: z.strictObject({
    pipeline: z.string(),
    detectors: z.record(z.string(), z.string()),
    models: z.record(z.string(), z.strictObject({ version: z.string(), sha256: sha256Hex })),
    faceModels: z.record(z.string(), z.string()).nullable(),
    ffmpeg: z.string(),
    ffprobe: z.string(),
  }),
  calibrationSha256: sha256Hex.nullable(),
  completedAt: z.iso.datetime(),
  keyId: sha256Hex,
});

export const signedTreeHeadSchema = z.strictObject({
  format: z.literal(treeHeadFormat),
  treeSize,
  rootHash: sha256Hex,
  timestamp: z.iso.datetime(),
  auditHead: z.strictObject({ seq: z.number().int().min(1), hash: sha256Hex }).nullable(),
  keyId: sha256Hex,
  signature: base64,
});

export const logPublicKeySchema = z.strictObject({
  keyId: sha256Hex.describe('SHA-256 of the raw public key'),
  algorithm: z.literal('Ed25519'),
  publicKey: base64.describe('the 32 raw bytes of the Ed25519 public key, base64'),
});

export const evidenceBundleSchema = z.strictObject({
  format: z.literal(bundleFormat),
  analysisId: z.uuid(),
  report: z.record(z.string(), z.unknown()).describe('the analysis report, as the API serves it'),
  statement: statementSchema,
  statementSignature: base64.describe('Ed25519 over the RFC 8785 form of `statement`'),
  keyId: sha256Hex,
  leafIndex: treeSize,
  inclusionProof: z.strictObject({
    treeSize,
    hashes: z.array(sha256Hex).max(64).describe('RFC 9162 audit path, leaf to root'),
  }),
  treeHead: signedTreeHeadSchema,
  anchors: z
    .array(anchorSchema)
    .max(16)
    .describe('anchors of `treeHead` (RFC 3161 timestamps, Solana memos)'),
  anchorsSignature: z
    .strictObject({ keyId: sha256Hex, signature: base64 })
    .optional()
    .describe(
      'Ed25519 by a log key over `{format: "guardian-bundle-anchors-v1", analysisId, anchors}` in RFC 8785 form; present whenever `anchors` is not empty',
    ),
  publicKeys: z.array(logPublicKeySchema).min(1).max(100),
});

export type EvidenceBundle = z.infer<typeof evidenceBundleSchema>;
export type LogPublicKey = z.infer<typeof logPublicKeySchema>;
