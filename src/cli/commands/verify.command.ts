import { readFile } from 'node:fs/promises';
import { sha256File, trustedKeyId } from '../../evidence/trusted-key.js';
import { verifyEvidenceBundle, type BundleVerification } from '../../evidence/verify-bundle.js';
import { parseCertificates } from '../../evidence/anchors/rfc3161/trusted-roots.js';
import type { CliCommand } from '../cli-command.js';

const usage =
  'usage: guardian verify BUNDLE [--media FILE] [--trusted-key KEY]... [--tsa-root FILE]... [--solana-rpc URL] [--strict] [--json]';
const labels = { passed: 'PASS', failed: 'FAIL', 'not-checked': 'SKIP' } as const;

/** `guardian verify`: checks an evidence bundle offline, with no server, database or configuration. */
export const verifyCommand: CliCommand = {
  options: {
    media: { type: 'string' },
    'trusted-key': { type: 'string', multiple: true },
    'tsa-root': { type: 'string', multiple: true },
    'solana-rpc': { type: 'string' },
    strict: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run({ positionals, values }) {
    const [bundlePath] = positionals;
    if (!bundlePath || positionals.length !== 1) {
      console.error(usage);
      return 2;
    }
    const trusted = (values['trusted-key'] ?? []) as string[];
    let trustedKeyIds: string[];
    try {
      trustedKeyIds = await Promise.all(trusted.map(trustedKeyId));
    } catch (error) {
      console.error(`guardian verify: ${(error as Error).message}`);
      return 2;
    }
    let tsaRoots: string[];
    try {
      tsaRoots = await Promise.all(((values['tsa-root'] ?? []) as string[]).map(readTsaRoot));
    } catch (error) {
      console.error(`guardian verify: ${(error as Error).message}`);
      return 2;
    }
    const solanaRpcUrl = typeof values['solana-rpc'] === 'string' ? values['solana-rpc'] : undefined;
    if (solanaRpcUrl !== undefined && !/^https?:\/\//.test(solanaRpcUrl)) {
      console.error('guardian verify: --solana-rpc must be an http(s) URL');
      return 2;
    }
    const fileText = await readFile(bundlePath, 'utf8');
    const media = typeof values.media === 'string' ? await sha256File(values.media) : undefined;
    const result = await verifyEvidenceBundle(parseJson(fileText), {
      fileText,
      ...(media ? { mediaSha256: media } : {}),
      ...(trustedKeyIds.length > 0 ? { trustedKeyIds } : {}),
      tsaRoots,
      ...(solanaRpcUrl ? { solanaRpcUrl } : {}),
    });
    const strict = values.strict === true;
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printResult(result, strict);
    // Exit 0: no check failed (and with --strict, none was left unchecked); 1 otherwise; 2: usage.
    return result.ok && (!strict || result.complete) ? 0 : 1;
  },
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function readTsaRoot(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`--tsa-root ${path}: cannot read it (${error.code ?? 'error'})`);
  });
  try {
    parseCertificates(text);
  } catch {
    throw new Error(`--tsa-root ${path}: no PEM certificate in it`);
  }
  return text;
}

function printResult(result: BundleVerification, strict: boolean): void {
  for (const check of result.checks) console.log(`${labels[check.status]}  ${check.name}: ${check.detail}`);
  const failed = result.checks.filter((check) => check.status === 'failed').length;
  const skipped = result.checks.filter((check) => check.status === 'not-checked').length;
  const unchecked = `${skipped} could not be checked, see SKIP`;
  console.log(
    !result.ok
      ? `NOT VERIFIED: ${failed} check${failed === 1 ? '' : 's'} failed`
      : skipped === 0
        ? 'verified: every check passed'
        : strict
          ? `NOT VERIFIED (--strict): no check failed, but ${unchecked}`
          : `verified: every check that could run passed (${unchecked})`,
  );
}
