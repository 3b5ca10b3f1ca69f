import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { paths } from '../api/schema.js';

export type Verification = paths['/api/v1/verify']['post']['responses'][200]['content']['application/json'];
export type ServerCheck = Verification['checks'][number];
export type CheckStatus = ServerCheck['status'];

/** One line of the result list, in plain words; `where` says whether the server or this browser checked it. */
export interface ExplainedCheck {
  name: string;
  title: string;
  status: CheckStatus;
  reason: string;
  detail: string;
  where: 'server' | 'browser';
}

/** The fields of a bundle this page reads itself; the server validates the whole shape. */
export interface BundleFacts {
  leafIndex: number | null;
  mediaSha256: string | null;
  statement: unknown;
}

/** POST /api/v1/verify's body limit: the page says so before sending a bundle that cannot fit. */
export const verifyBodyLimitBytes = 16 * 1024 * 1024;

const sha256Hex = /^[0-9a-f]{64}$/;

/** What the page needs from a parsed bundle, without trusting its shape. */
export function bundleFacts(parsed: unknown): BundleFacts {
  const record = isRecord(parsed) ? parsed : {};
  const statement = isRecord(record.statement) ? record.statement : null;
  const media = statement && isRecord(statement.media) ? statement.media : null;
  const mediaSha256 =
    media && typeof media.sha256 === 'string' && sha256Hex.test(media.sha256) ? media.sha256 : null;
  const leafIndex =
    typeof record.leafIndex === 'number' && Number.isSafeInteger(record.leafIndex) && record.leafIndex >= 0
      ? record.leafIndex
      : null;
  return { leafIndex, mediaSha256, statement };
}

/** The request body with the bundle file's text spliced in unchanged, so the server parses the exact bytes. */
export function verifyRequestBody(bundleText: string, trustedKeyIds: readonly string[]): string {
  if (trustedKeyIds.length === 0) return `{"bundle":${bundleText}}`;
  return `{"bundle":${bundleText},"trustedKeyIds":${JSON.stringify(trustedKeyIds)}}`;
}

/** True when the file is byte for byte the RFC 8785 form of what it holds (the form the server issues). */
export function isCanonicalForm(bundleText: string, parsed: unknown): boolean {
  try {
    return canonicalize(parsed) === bundleText;
  } catch {
    return false;
  }
}

/** SHA-256 of the statement's RFC 8785 form (the PDF's "statement SHA-256") and its RFC 9162 leaf hash. */
export function statementDigests(statement: unknown): { statementSha256: string; leafHash: string } | null {
  let text: string | undefined;
  try {
    text = canonicalize(statement);
  } catch {
    return null;
  }
  if (text === undefined || !isRecord(statement)) return null;
  const bytes = utf8ToBytes(text);
  const leaf = new Uint8Array(bytes.length + 1);
  leaf.set(bytes, 1); // leaf prefix 0x00
  return { statementSha256: bytesToHex(sha256(bytes)), leafHash: bytesToHex(sha256(leaf)) };
}

/** `?leaf=N&statement=HEX`, as the PDF report's QR code links here; null when absent or malformed. */
export function parseLeafQuery(search: string): { leafIndex: number; statementSha256: string } | null {
  const params = new URLSearchParams(search);
  const leaf = params.get('leaf');
  const statement = params.get('statement')?.toLowerCase();
  if (leaf === null || !/^\d{1,15}$/.test(leaf) || !statement || !sha256Hex.test(statement)) return null;
  return { leafIndex: Number(leaf), statementSha256: statement };
}

interface Wording {
  title: string;
  passed: string;
  failed: string;
  notChecked: string;
}

const wordings: Record<string, Wording> = {
  'bundle-format': {
    title: 'The file is an evidence bundle',
    passed: 'The file has every part of an evidence bundle, and the parts name the same analysis.',
    failed: 'The file is not a complete evidence bundle, or its parts contradict each other.',
    notChecked: 'The file could not be read as an evidence bundle.',
  },
  'canonical-form': {
    title: 'The file is exactly as it was issued',
    passed: 'The file is byte for byte in the form the server issued it (RFC 8785 JSON).',
    failed:
      'The file was edited or reformatted after it was issued. Even when its contents still check out, keep the file exactly as downloaded.',
    notChecked: 'The file could not be read, so its form was not compared.',
  },
  'statement-signature': {
    title: 'The statement carries a valid signature',
    passed:
      'The signed statement (file hash, report hash, versions, completion time) has a valid signature by the log key it names.',
    failed:
      'The signature does not match the statement: the statement was changed, or was not signed by the key it names.',
    notChecked: 'The statement signature could not be checked.',
  },
  'report-hash': {
    title: 'The report is the one the statement names',
    passed: 'The report in the bundle has exactly the hash written in the signed statement.',
    failed: 'The report in the bundle differs from the report the statement was signed for.',
    notChecked: 'The report hash could not be checked.',
  },
  'inclusion-proof': {
    title: 'The statement is in the transparency log',
    passed:
      'The proof shows the statement is an entry of the append-only log, at the size the signed log state records.',
    failed: 'The proof does not lead from the statement to the log state in the bundle.',
    notChecked: 'The log proof could not be checked.',
  },
  'tree-head-signature': {
    title: 'The log state is signed',
    passed: 'The log state in the bundle (its size and root hash) carries a valid signature by the log key.',
    failed:
      'The signature on the log state does not match: the log state was changed or signed by another key.',
    notChecked: 'The log state signature could not be checked.',
  },
  'anchors-signature': {
    title: 'The anchors are signed',
    passed:
      'The timestamps and blockchain receipts in the bundle carry a valid signature by the log key, byte for byte.',
    failed: 'The signature on the anchors does not match: a timestamp or receipt in the bundle was changed.',
    notChecked: 'The signature on the anchors could not be checked.',
  },
  'trusted-key': {
    title: "Signed by this site's log key",
    passed: 'Every signature in the bundle was made by a log key this site publishes.',
    failed: 'The bundle was signed by a key this site does not publish: it did not come from this log.',
    notChecked:
      "The signatures were checked only with the keys the bundle carries. Anyone can make a self-consistent bundle with a key of their own, so this does not show who signed it. Tick “Check against this site's published log keys” to check that.",
  },
  'media-hash': {
    title: 'The media file matches the statement',
    passed: 'The file you chose has the SHA-256 written in the statement: the report is about this file.',
    failed: 'The file you chose is not the file this statement is about: its SHA-256 differs.',
    notChecked: 'No media file was chosen, so the page could not check which file the report is about.',
  },
  anchors: {
    title: 'External timestamps',
    passed: 'The external timestamps of the log state check out.',
    failed: 'The bundle carries an external timestamp this verifier cannot check.',
    notChecked:
      'The bundle has no external timestamps, so the times in it rest on the log key alone (see the help page).',
  },
};

/** The server's check (or one this page ran) with a title and a reason in plain words; unknown names keep the server's words. */
export function explainCheck(check: ServerCheck, where: ExplainedCheck['where'] = 'server'): ExplainedCheck {
  const wording = wordings[check.name];
  if (!wording)
    return {
      name: check.name,
      title: check.name,
      status: check.status,
      reason: check.detail,
      detail: check.detail,
      where,
    };
  const reason =
    check.status === 'passed'
      ? wording.passed
      : check.status === 'failed'
        ? wording.failed
        : wording.notChecked;
  return {
    name: check.name,
    title: wording.title,
    status: check.status,
    reason,
    detail: check.detail,
    where,
  };
}

export const statusWords: Record<CheckStatus, string> = {
  passed: 'Passed',
  failed: 'Failed',
  'not-checked': 'Not checked',
};

/** One sentence over all checks: failed wins, then how many could not run. */
export function verdictSentence(checks: readonly ExplainedCheck[]): { ok: boolean; sentence: string } {
  const failed = checks.filter((check) => check.status === 'failed').length;
  const skipped = checks.filter((check) => check.status === 'not-checked').length;
  if (failed > 0)
    return {
      ok: false,
      sentence: `Not verified: ${failed} ${failed === 1 ? 'check' : 'checks'} failed. Do not rely on this bundle.`,
    };
  const rest =
    skipped === 0 ? '' : ` ${skipped} ${skipped === 1 ? 'check' : 'checks'} could not run; see why below.`;
  return { ok: true, sentence: `Verified: every check that could run passed.${rest}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
