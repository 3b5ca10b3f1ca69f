// The CLI entry for tests: the same main() as bin/guardian.js, run from source so tests never see a stale dist/.
import './end-with-parent.mjs';
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
