import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicKeyPem } from '../../evidence/ed25519.js';
import { signedTreeHeadSchema } from '../../evidence/evidence-bundle.js';
import { roles } from '../../db/schema.js';
import { notFound } from '../../services/errors.js';
import type { TransparencyLogService } from '../../services/transparency-log.service.js';
import type { AccessPolicy } from '../access-control.js';
import { errorResponses } from '../schemas.js';

const anyRole: AccessPolicy = { roles };
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const inclusionQuery = z.strictObject({
  leafIndex: size.describe("the bundle's `leafIndex`"),
  treeSize: size.min(1).describe("size of the tree to prove against (a signed tree head's `treeSize`)"),
});
const consistencyQuery = z.strictObject({
  from: size.describe('the older tree size'),
  to: size.describe('the newer tree size'),
});

const inclusionSchema = z.object({
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  leafHash: sha256Hex,
  hashes: z.array(sha256Hex).describe('RFC 9162 §2.1.3 audit path, leaf to root'),
});
const consistencySchema = z.object({
  fromSize: z.number().int(),
  toSize: z.number().int(),
  hashes: z.array(sha256Hex).describe('RFC 9162 §2.1.4 consistency proof'),
});
const keysSchema = z.object({
  keys: z.array(
    z.object({
      keyId: sha256Hex.describe('SHA-256 of the raw public key'),
      algorithm: z.literal('Ed25519'),
      publicKey: z.string().describe('the 32 raw bytes, base64'),
      publicKeyPem: z.string().describe('the same key as PEM (SPKI), for openssl'),
      createdAt: z.iso.datetime(),
      retiredAt: z.iso
        .datetime()
        .nullable()
        .describe('set once the key stopped signing; kept for verification'),
    }),
  ),
});

export const transparencyLogRoutes: FastifyPluginAsyncZod<{
  transparencyLog: TransparencyLogService;
}> = async (app, deps) => {
  app.get(
    '/api/v1/log/tree-head',
    {
      config: { access: anyRole },
      schema: {
        summary: 'The latest signed tree head of the transparency log',
        tags: ['transparency log'],
        response: { 200: signedTreeHeadSchema, ...errorResponses },
      },
    },
    async () => {
      const head = await deps.transparencyLog.latestTreeHead();
      if (!head) throw notFound('tree head (the log is empty)');
      return head;
    },
  );

  app.get(
    '/api/v1/log/proofs/inclusion',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Inclusion proof of a leaf in the tree of a given size (no authentication: leaf indices are in bundles)',
        tags: ['transparency log'],
        querystring: inclusionQuery,
        response: { 200: inclusionSchema, ...errorResponses },
      },
    },
    async (request) => deps.transparencyLog.inclusionProof(request.query.leafIndex, request.query.treeSize),
  );

  app.get(
    '/api/v1/log/proofs/consistency',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Consistency proof that the tree of size `from` is a prefix of the tree of size `to`',
        tags: ['transparency log'],
        querystring: consistencyQuery,
        response: { 200: consistencySchema, ...errorResponses },
      },
    },
    async (request) => deps.transparencyLog.consistencyProof(request.query.from, request.query.to),
  );

  app.get(
    '/api/v1/log/keys',
    {
      config: { access: 'public' },
      schema: {
        summary:
          "The log's public keys, retired ones included: publish them, and verify with `--trusted-key`",
        tags: ['transparency log'],
        response: { 200: keysSchema, ...errorResponses },
      },
    },
    async () => ({
      keys: (await deps.transparencyLog.publicKeys()).map((key) => ({
        keyId: key.keyId,
        algorithm: key.algorithm,
        publicKey: key.publicKey,
        publicKeyPem: publicKeyPem(Buffer.from(key.publicKey, 'base64')),
        createdAt: key.createdAt.toISOString(),
        retiredAt: key.retiredAt?.toISOString() ?? null,
      })),
    }),
  );
};
