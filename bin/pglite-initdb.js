#!/usr/bin/env node
// `node bin/pglite-initdb.js DIR` runs PGlite's initdb into DIR, which must not exist yet. initdb runs a second
// Postgres in WASM and peaks near 800 MiB: in a process of its own, all of it is returned when the process exits.
import { PGlite } from '@electric-sql/pglite';

const [target] = process.argv.slice(2);
if (!target) {
  console.error('usage: node bin/pglite-initdb.js DIR');
  process.exit(2);
}
const pglite = await PGlite.create(target);
await pglite.close();
