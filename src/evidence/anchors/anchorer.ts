import type { SolanaAnchorReceipt } from './solana/anchor-on-solana.js';
import { anchorOnSolana } from './solana/anchor-on-solana.js';
import { loadKeypairSignerFromFile } from './solana/keypair-file.js';
import type { SolanaTransport } from './solana/solana-transport.js';
import { TimestampRequestError } from './rfc3161/timestamp-errors.js';
import { requestTimestamp, type TimestampResult } from './rfc3161/tsa-client.js';
import { verifyTimestampToken } from './rfc3161/verify-timestamp-token.js';

export type SolanaCluster = 'mainnet-beta' | 'testnet' | 'devnet' | 'localnet';

export type AnchorReceipt =
  | { kind: 'rfc3161'; timestamp: TimestampResult }
  | { kind: 'solana'; receipt: SolanaAnchorReceipt; cluster: SolanaCluster };

/** One configured anchor kind: puts a digest somewhere we do not control, or throws why it could not. */
export interface Anchorer {
  readonly kind: AnchorReceipt['kind'];
  /** Where anchors go, safe to log: an origin, never a path or query that could hold a credential. */
  readonly target: string;
  anchor(digest: Uint8Array, signal: AbortSignal): Promise<AnchorReceipt>;
}

/** RFC 3161: a token is accepted only once it verifies against the configured roots, as a verifier will check it. */
export function createTimestampAnchorer(options: {
  tsaUrl: string;
  trustedRoots: Array<string | Uint8Array>;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}): Anchorer {
  return {
    kind: 'rfc3161',
    target: safeOrigin(options.tsaUrl),
    async anchor(digest, signal) {
      const timestamp = await requestTimestamp({
        tsaUrl: options.tsaUrl,
        digest,
        signal,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      const verification = await verifyTimestampToken({
        token: timestamp.token,
        digest,
        trustedRoots: options.trustedRoots,
      });
      if (!verification.valid) {
        const failed = verification.checks.filter((check) => !check.passed);
        throw new TimestampRequestError(
          'untrusted-token',
          `the TSA's token does not verify: ${failed.map((check) => `${check.name}: ${check.reason}`).join('; ')}`,
        );
      }
      return { kind: 'rfc3161', timestamp };
    },
  };
}

/** Solana: the keypair is read at each attempt, so a fixed file is picked up without a restart. */
export function createSolanaAnchorer(options: {
  transport: SolanaTransport;
  keypairFile: string;
  cluster: SolanaCluster;
  rpcUrl: string;
}): Anchorer {
  return {
    kind: 'solana',
    target: `${options.cluster} via ${safeOrigin(options.rpcUrl)}`,
    async anchor(digest) {
      const signer = await loadKeypairSignerFromFile(options.keypairFile);
      const receipt = await anchorOnSolana({ transport: options.transport, signer, digest });
      return { kind: 'solana', receipt, cluster: options.cluster };
    },
  };
}

/** scheme://host[:port] of a URL, without user info, path or query. */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}
