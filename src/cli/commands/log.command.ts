import type { LogCheckResult } from '../../services/log-monitor.js';
import type { CliCommand } from '../cli-command.js';
import { runManagement } from './manage.command.js';

const usage = 'usage: guardian log check [--from-size N] [--json] | guardian log rotate-key';

/** `guardian log`: the transparency log's monitor and key rotation, in the running server when there is one. */
export const logCommand: CliCommand = {
  options: { 'from-size': { type: 'string' }, json: { type: 'boolean', default: false } },
  async run({ positionals, values, loadConfig }) {
    const verb = positionals.join(' ');
    if (verb === 'rotate-key') {
      const rotated = (await runManagement(loadConfig(), 'log.rotateKey', {})) as {
        previousKeyId: string;
        keyId: string;
      };
      console.log(`log key rotated: ${rotated.previousKeyId} is retired (kept for verification)`);
      console.log(`new key: ${rotated.keyId}`);
      return 0;
    }
    const fromSize = values['from-size'] === undefined ? 0 : Number(values['from-size']);
    if (verb !== 'check' || !Number.isSafeInteger(fromSize) || fromSize < 0) {
      console.error(usage);
      return 2;
    }
    const result = (await runManagement(loadConfig(), 'log.check', { fromSize })) as LogCheckResult;
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printResult(result);
    return result.ok ? 0 : 1;
  },
};

function printResult(result: LogCheckResult): void {
  if (!result.ok) {
    for (const problem of result.problems) console.error(`${problem.kind}: ${problem.message}`);
    const first = result.firstBadIndex === null ? '' : ` (first bad leaf index: ${result.firstBadIndex})`;
    console.error(`transparency log check FAILED: ${result.problems.length} problem(s)${first}`);
    return;
  }
  console.log(`transparency log intact: ${result.leaves} leaves, ${result.heads} signed tree heads`);
  // Noting the head elsewhere lets a later check prove the log only grew from it.
  if (result.latest)
    console.log(`latest head: size ${result.latest.treeSize} root ${result.latest.rootHash}`);
}
