import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteTemplateDir, provisionPGliteDataDir } from '../../src/db/pglite-data-dir.js';
import { testLogger } from '../helpers/databases.js';

const execFileAsync = promisify(execFile);
const fixture = new URL('./fixtures/open-embedded-database.ts', import.meta.url).pathname;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'guardian-pglite-dir-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function query(directory: string, text: string): Promise<unknown[]> {
  const pglite = await PGlite.create(directory);
  try {
    return (await pglite.query(text)).rows;
  } finally {
    await pglite.close();
  }
}

describe('embedded database directory', () => {
  it('copies the template made at install time, then opens the copy as it is', async () => {
    const directory = join(root, 'from-template', 'db');
    expect(await provisionPGliteDataDir(directory, { log: testLogger() })).toBe('template');
    expect(await readFile(join(directory, 'PG_VERSION'), 'utf8')).toBe(
      await readFile(join(pgliteTemplateDir(), 'PG_VERSION'), 'utf8'),
    );
    await query(directory, 'create table kept (id int)');
    expect(await provisionPGliteDataDir(directory, { log: testLogger() })).toBe('existing');
    expect(await query(directory, "select to_regclass('kept')::text as name")).toEqual([{ name: 'kept' }]);
    // Nothing staged is left beside it.
    expect(await readdir(join(root, 'from-template'))).toEqual(['db']);
  });

  it('without a template, runs initdb in a child process and yields a working database', async () => {
    const directory = join(root, 'by-initdb');
    await mkdir(directory); // an empty directory counts as new
    const from = await provisionPGliteDataDir(directory, {
      log: testLogger(),
      templateDir: join(root, 'no-template-here'),
    });
    expect(from).toBe('initdb');
    expect(await query(directory, 'select 1 + 1 as two')).toEqual([{ two: 2 }]);
  }, 240_000); // initdb under WASM: seconds on an idle machine, a minute on a loaded one

  it('refuses a non-empty directory that holds no database, and leaves it alone', async () => {
    const directory = join(root, 'foreign');
    await mkdir(directory);
    await writeFile(join(directory, 'notes.txt'), 'mine');
    await expect(provisionPGliteDataDir(directory, { log: testLogger() })).rejects.toThrow(
      /exists but holds no database/,
    );
    expect(await readdir(directory)).toEqual(['notes.txt']);
  });

  it('a first open stays far below the 800 MiB that initdb in the same process took', async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      '--import',
      'tsx',
      fixture,
      join(root, 'first-open'),
    ]);
    const { peakMiB } = JSON.parse(stdout) as { peakMiB: number };
    // The target for the whole first start of `serve`; this process only opens and migrates.
    expect(peakMiB).toBeLessThan(450);
  });
});
