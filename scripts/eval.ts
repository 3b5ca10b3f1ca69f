// `npm run eval -- [options]`: `guardian eval` straight from the sources (no build), the full synthetic set by default.
import { main } from '../src/cli/main.js';

process.exitCode = await main(['eval', ...process.argv.slice(2)]);
