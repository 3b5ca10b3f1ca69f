import { readFile } from 'node:fs/promises';
import { sha256File, trustedKeyId } from '../../evidence/trusted-key.js';
import { verifyEvidenceBundle, type BundleVerification } from '../../evidence/verify-bundle.js';
import type { CliCommand } from '../cli-command.js';

const usage = 'usage: guardian verify BUNDLE [--media FILE] [--trusted-key KEY]... [--json]';
const labels = { passed: 'PASS', failed: 'FAIL', 'not-checked': 'SKIP' } as const;

/** `guardian verify`: checks an evidence bundle offline, with no server, database or configuration. */
export const verifyCommand: CliCommand = {
  options: {
    media: { type: 'string' },
    'trusted-key': { type: 'string', multiple: true },
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
    const fileText = await readFile(bundlePath, 'utf8');
    const media = typeof values.media === 'string' ? await sha256File(values.media) : undefined;
    const result = verifyEvidenceBundle(parseJson(fileText), {
      fileText,
      ...(media ? { mediaSha256: media } : {}),
      ...(trustedKeyIds.length > 0 ? { trustedKeyIds } : {}),
    });
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printResult(result);
    return result.ok ? 0 : 1;
  },
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function printResult(result: BundleVerification): void {
  for (const check of result.checks) console.log(`${labels[check.status]}  ${check.name}: ${check.detail}`);
  const failed = result.checks.filter((check) => check.status === 'failed').length;
  const skipped = result.checks.filter((check) => check.status === 'not-checked').length;
  console.log(
    result.ok
      ? `verified: every check that could run passed${skipped > 0 ? ` (${skipped} could not be checked, see SKIP)` : ''}`
      : `NOT VERIFIED: ${failed} check${failed === 1 ? '' : 's'} failed`,
  );
}
