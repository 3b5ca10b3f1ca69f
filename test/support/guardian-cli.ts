// The CLI entry for tests: the same main() as bin/guardian.js, run from source so tests never see a stale dist/.
import { main } from '../../src/cli/main.js';

// A test process that dies without stopping its servers must not leave them running (and taking CPU from
// the rest of the run): once this process is re-parented, it shuts itself down as on SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

process.exitCode = await main(process.argv.slice(2));
