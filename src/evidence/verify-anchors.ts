import { safeOrigin } from './anchors/anchorer.js';
import type { FetchedMemoTransaction } from './anchors/solana/memo-check.js';
import { checkMemoAnchor } from './anchors/solana/memo-check.js';
import { treeHeadMemoText } from './anchors/solana/memo-instruction.js';
import { createRpcSolanaTransport } from './anchors/solana/rpc-solana-transport.js';
import { verifyTimestampToken } from './anchors/rfc3161/verify-timestamp-token.js';
import {
  solanaAnchorEntrySchema,
  timestampAnchorEntrySchema,
  unanchoredEntrySchema,
  type SolanaAnchorEntry,
  type TimestampAnchorEntry,
} from './bundle-anchors.js';
import type { EvidenceBundle } from './evidence-bundle.js';
import { treeHeadDigest } from './tree-head.js';
import type { VerificationCheck } from './verify-bundle.js';

export interface AnchorVerifyOptions {
  /** Roots (PEM text or DER) the TSA must chain to; without one the chain is reported as not checked. */
  tsaRoots?: ReadonlyArray<string | Uint8Array>;
  /** A Solana JSON-RPC URL to look the memo transactions up; without one they are not checked. */
  solanaRpcUrl?: string;
  /** Looks a transaction up (tests inject one); defaults to getTransaction through solanaRpcUrl. */
  fetchSolanaTransaction?: (signature: string) => Promise<FetchedMemoTransaction | null>;
}

type Check = Omit<VerificationCheck, 'name'> & { name: 'anchors' | 'anchor-rfc3161' | 'anchor-solana' };

/** One check per anchor of the bundle's tree head; what cannot be checked here is said, never passed. */
export async function anchorChecks(bundle: EvidenceBundle, options: AnchorVerifyOptions): Promise<Check[]> {
  if (bundle.anchors.length === 0) {
    return [
      {
        name: 'anchors',
        status: 'not-checked',
        detail:
          'the bundle has no anchors (RFC 3161 timestamps, Solana): the tree head time rests on the log key alone',
      },
    ];
  }
  const digest = treeHeadDigest(bundle.treeHead);
  const checks: Check[] = [];
  for (const entry of bundle.anchors) {
    const type = String(entry.type);
    const name = type === 'rfc3161' ? 'anchor-rfc3161' : type === 'solana' ? 'anchor-solana' : 'anchors';
    if (name === 'anchors') {
      checks.push({ name, status: 'failed', detail: `this verifier cannot check anchors of type ${type}` });
    } else if (entry.treeHeadSha256 !== digest) {
      checks.push({
        name,
        status: 'failed',
        detail: `the anchor covers tree head ${entry.treeHeadSha256}, not this bundle's (${digest})`,
      });
    } else {
      checks.push(await checkEntry(name, entry, digest, options));
    }
  }
  return checks;
}

async function checkEntry(
  name: 'anchor-rfc3161' | 'anchor-solana',
  entry: unknown,
  digest: string,
  options: AnchorVerifyOptions,
): Promise<Check> {
  const unanchored = unanchoredEntrySchema.safeParse(entry);
  if (unanchored.success) {
    const { status, attempts, reason } = unanchored.data;
    return {
      name,
      status: 'not-checked',
      detail: `the ${unanchored.data.type} anchor of this tree head is ${status} (${attempts} attempts${reason ? `; last error: ${reason}` : ''}): nothing to check; a bundle fetched later may carry an anchored head`,
    };
  }
  if (name === 'anchor-rfc3161') {
    const parsed = timestampAnchorEntrySchema.safeParse(entry);
    return parsed.success
      ? checkTimestamp(parsed.data, digest, options.tsaRoots ?? [])
      : { name, status: 'failed', detail: 'malformed RFC 3161 anchor entry' };
  }
  const parsed = solanaAnchorEntrySchema.safeParse(entry);
  return parsed.success
    ? checkSolana(parsed.data, digest, options)
    : { name, status: 'failed', detail: 'malformed Solana anchor entry' };
}

async function checkTimestamp(
  entry: TimestampAnchorEntry,
  digest: string,
  roots: ReadonlyArray<string | Uint8Array>,
): Promise<Check> {
  const name = 'anchor-rfc3161';
  const verification = await verifyTimestampToken({
    token: new Uint8Array(Buffer.from(entry.token, 'base64')),
    digest: new Uint8Array(Buffer.from(digest, 'hex')),
    trustedRoots: [...roots],
  });
  const failed = verification.checks.filter(
    (check) => !check.passed && !(roots.length === 0 && check.name === 'certificate-chain'),
  );
  if (failed.length > 0) {
    return {
      name,
      status: 'failed',
      detail: `RFC 3161 token does not verify: ${failed.map((check) => `${check.name}: ${check.reason}`).join('; ')}`,
    };
  }
  const genTime = verification.genTime?.toISOString() ?? 'unknown';
  if (verification.genTime?.getTime() !== new Date(entry.genTime).getTime()) {
    return {
      name,
      status: 'failed',
      detail: `the token's genTime is ${genTime}, the bundle says ${entry.genTime}`,
    };
  }
  const who = entry.tsaName ?? 'the TSA';
  if (roots.length === 0) {
    return {
      name,
      status: 'not-checked',
      detail: `token by ${who} at ${genTime}: signature, signing certificate, timestamping key usage and digest verify, but the certificate chain was NOT checked (no TSA root given: --tsa-root FILE), so anyone could have made this token`,
    };
  }
  return {
    name,
    status: 'passed',
    detail: `the tree head existed no later than ${genTime}, timestamped by ${who} (token verifies and chains to a root you gave)`,
  };
}

async function checkSolana(
  entry: SolanaAnchorEntry,
  digest: string,
  options: AnchorVerifyOptions,
): Promise<Check> {
  const name = 'anchor-solana';
  const expectedMemo = treeHeadMemoText(new Uint8Array(Buffer.from(digest, 'hex')));
  if (entry.memo !== expectedMemo) {
    return { name, status: 'failed', detail: `the memo is "${entry.memo}", expected "${expectedMemo}"` };
  }
  const where = `transaction ${entry.signature} at slot ${entry.slot} on ${entry.cluster}`;
  const fetchTransaction =
    options.fetchSolanaTransaction ??
    (options.solanaRpcUrl
      ? createRpcSolanaTransport({ rpcUrl: options.solanaRpcUrl }).fetchTransaction
      : undefined);
  if (!fetchTransaction) {
    return {
      name,
      status: 'not-checked',
      detail: `not checked (no RPC URL): ${where}; give --solana-rpc URL of a ${entry.cluster} node to look it up`,
    };
  }
  const rpc = options.solanaRpcUrl ? safeOrigin(options.solanaRpcUrl) : 'the RPC';
  let fetched: FetchedMemoTransaction | null;
  try {
    fetched = await fetchTransaction(entry.signature);
  } catch (error) {
    return {
      name,
      status: 'not-checked',
      detail: `${rpc} could not be asked for ${where}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!fetched) return { name, status: 'failed', detail: `${rpc} does not know ${where}` };
  if (BigInt(fetched.slot) !== BigInt(entry.slot)) {
    return {
      name,
      status: 'failed',
      detail: `${rpc} has the transaction at slot ${fetched.slot}, not ${entry.slot}`,
    };
  }
  const memo = checkMemoAnchor({
    transaction: fetched,
    digest: new Uint8Array(Buffer.from(digest, 'hex')),
    expectedSigner: entry.feePayer,
  });
  return {
    name,
    status: memo.passed ? 'passed' : 'failed',
    detail: memo.passed
      ? `the tree head existed no later than slot ${entry.slot}: ${memo.reason} (looked up at ${rpc}; the bundle says cluster ${entry.cluster})`
      : `${where}: ${memo.reason}`,
  };
}
