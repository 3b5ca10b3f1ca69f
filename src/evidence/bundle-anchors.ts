import { z } from 'zod';
import { canonicalBase64 as base64 } from './base64-schema.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');

export const timestampAnchorEntrySchema = z
  .strictObject({
    type: z.literal('rfc3161'),
    status: z.literal('anchored'),
    treeHeadSha256: sha256Hex.describe(
      "SHA-256 of the tree head's RFC 8785 form: the token's message imprint",
    ),
    token: base64.describe('the RFC 3161 TimeStampToken (CMS SignedData), DER, base64'),
    genTime: z.iso.datetime().describe("the token's genTime, as the TSA asserted it"),
    serialNumber: z
      .string()
      .regex(/^[0-9a-f]+$/)
      .describe("the token's serial number, hex"),
    tsaName: z.string().nullable().describe('the TSA as the token names it'),
  })
  .describe('an RFC 3161 timestamp of the tree head');

export const solanaAnchorEntrySchema = z
  .strictObject({
    type: z.literal('solana'),
    status: z.literal('anchored'),
    treeHeadSha256: sha256Hex,
    cluster: z.enum(['mainnet-beta', 'testnet', 'devnet', 'localnet']).describe('the ledger to ask'),
    signature: z
      .string()
      .regex(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/)
      .describe('transaction signature, base58'),
    slot: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    memo: z.string().describe('`guardian-tree-head:` followed by treeHeadSha256'),
    feePayer: z
      .string()
      .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)
      .describe('the key that signed the memo'),
  })
  .describe('a Solana memo transaction carrying the tree head digest');

export const unanchoredEntrySchema = z
  .strictObject({
    type: z.enum(['rfc3161', 'solana']),
    status: z.enum(['pending', 'failed']),
    treeHeadSha256: sha256Hex,
    attempts: z.number().int().min(0),
    reason: z.string().nullable().describe('why the last attempt failed'),
  })
  .describe('an anchor of the tree head that does not exist (yet): nothing to check');

const otherAnchorSchema = z
  .object({ type: z.string(), treeHeadSha256: sha256Hex })
  .loose()
  .describe('an anchor of a type this version does not know (the verifier fails it)');

/** Each entry covers the bundle's tree head; its `type` and `status` say how it is checked. */
export const anchorSchema = z.union([
  timestampAnchorEntrySchema,
  solanaAnchorEntrySchema,
  unanchoredEntrySchema,
  otherAnchorSchema,
]);

export type TimestampAnchorEntry = z.infer<typeof timestampAnchorEntrySchema>;
export type SolanaAnchorEntry = z.infer<typeof solanaAnchorEntrySchema>;
export type UnanchoredEntry = z.infer<typeof unanchoredEntrySchema>;
export type BundleAnchorEntry = TimestampAnchorEntry | SolanaAnchorEntry | UnanchoredEntry;
