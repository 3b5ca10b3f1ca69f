// `npm ci` (prepare) runs this: initdb once at install time, so no first start of `serve` runs it.
import { buildPGliteTemplate } from '../src/db/pglite-data-dir.js';

const started = performance.now();
const template = await buildPGliteTemplate();
console.error(
  `PGlite data directory template ready in ${template} (${Math.round(performance.now() - started)} ms)`,
);
