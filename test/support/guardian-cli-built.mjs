// The CLI entry for tests when dist/ is fresh: what bin/guardian.js runs, started without tsx's ~0.8 s.
import './end-with-parent.mjs';
import { main } from '../../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
