import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { roles } from '../../db/schema.js';
import type { AnchorRecord } from '../../repositories/anchor.repository.js';
import type { AnchorService } from '../../services/anchor.service.js';
import type { AccessPolicy } from '../access-control.js';
import { errorResponses } from '../schemas.js';

const anyRole: AccessPolicy = { roles };
const kind = z.enum(['rfc3161', 'solana']);
const status = z.enum(['pending', 'anchored', 'failed']);

const anchorsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe("the previous page's `nextBefore`"),
  kind: kind.optional(),
  status: status.optional(),
});

const anchorView = z.object({
  id: z.number().int(),
  kind,
  status,
  treeSize: z.number().int().describe('size of the anchored tree head'),
  treeHeadSha256: z.string().describe("SHA-256 of the signed tree head's RFC 8785 form: what is anchored"),
  attempts: z.number().int(),
  nextAttemptAt: z.iso.datetime().nullable().describe('pending: when the next attempt is due'),
  reason: z.string().nullable().describe('pending: why the last attempt failed; failed: why it gave up'),
  createdAt: z.iso.datetime(),
  anchoredAt: z.iso.datetime().nullable(),
  failedAt: z.iso.datetime().nullable(),
  rfc3161: z
    .object({
      token: z.string().describe('TimeStampToken, DER, base64'),
      genTime: z.iso.datetime(),
      serialNumber: z.string(),
      tsaName: z.string().nullable(),
    })
    .nullable(),
  solana: z
    .object({
      cluster: z.string(),
      signature: z.string(),
      slot: z.number().int(),
      memo: z.string(),
      feePayer: z.string(),
    })
    .nullable(),
});

const anchorsResponse = z.object({
  configured: z.array(kind).describe('the anchor kinds this process has configured'),
  anchors: z.array(anchorView).describe('newest first'),
  nextBefore: z.number().int().nullable().describe('pass as `before` for the next page; null on the last'),
});

export const anchorsRoutes: FastifyPluginAsyncZod<{ anchors: AnchorService }> = async (app, deps) => {
  app.get(
    '/api/v1/log/anchors',
    {
      config: { access: anyRole },
      schema: {
        summary: 'Anchors of signed tree heads (RFC 3161 timestamps, Solana memos) and their status',
        description:
          'Each anchor is pending (with the reason of the last failed attempt and the next attempt time), anchored (with the token or transaction) or failed (with the reason it gave up). Not every tree head is anchored: see ANCHOR_INTERVAL_SECONDS in docs/configuration.md.',
        tags: ['transparency log'],
        querystring: anchorsQuery,
        response: { 200: anchorsResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { limit, before, kind: onlyKind, status: onlyStatus } = request.query;
      const rows = await deps.anchors.list({
        limit,
        ...(before !== undefined ? { beforeId: before } : {}),
        ...(onlyKind ? { kind: onlyKind } : {}),
        ...(onlyStatus ? { status: onlyStatus } : {}),
      });
      return {
        configured: deps.anchors.kinds,
        anchors: rows.map(anchorViewOf),
        nextBefore: rows.length === limit ? Number(rows[rows.length - 1]?.id) : null,
      };
    },
  );
};

function anchorViewOf(row: AnchorRecord): z.infer<typeof anchorView> {
  return {
    id: Number(row.id),
    kind: row.kind,
    status: row.status,
    treeSize: Number(row.tree_size),
    treeHeadSha256: row.tree_head_sha256,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? (row.next_attempt_at?.toISOString() ?? null) : null,
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
    anchoredAt: row.anchored_at?.toISOString() ?? null,
    failedAt: row.failed_at?.toISOString() ?? null,
    rfc3161:
      row.tsa_token && row.tsa_gen_time
        ? {
            token: Buffer.from(row.tsa_token).toString('base64'),
            genTime: row.tsa_gen_time.toISOString(),
            serialNumber: row.tsa_serial_hex ?? '',
            tsaName: row.tsa_name,
          }
        : null,
    solana: row.solana_signature
      ? {
          cluster: row.solana_cluster ?? '',
          signature: row.solana_signature,
          slot: Number(row.solana_slot),
          memo: row.solana_memo ?? '',
          feePayer: row.solana_fee_payer ?? '',
        }
      : null,
  };
}
