// The CLI entry for tests when dist/ is fresh: what bin/guardian.js runs, started without tsx's ~0.8 s.
import { main } from '../../dist/cli/main.js';

// Like guardian-cli.ts: a server whose test process died shuts itself down instead of running on.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
}, 1000).unref();

process.exitCode = await main(process.argv.slice(2));
