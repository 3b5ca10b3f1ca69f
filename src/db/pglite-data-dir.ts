import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const initdbScript = join(repoRoot, 'bin', 'pglite-initdb.js');
// initdb takes seconds on an idle machine and up to a minute on a heavily loaded one; beyond three it hangs.
const initdbTimeoutMs = 180_000;

/** Where the data directory initialised at install time lives; the PGlite version in the name keeps a stale one unused. */
export function pgliteTemplateDir(): string {
  const require = createRequire(import.meta.url);
  const packageJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = require(packageJson) as { version: string };
  return join(repoRoot, '.pglite-template', `pglite-${version}`);
}

export type ProvisionedFrom = 'existing' | 'template' | 'initdb';

/**
 * Makes `directory` a PGlite data directory without running initdb in this process: PGlite's initdb peaks
 * near 800 MiB of WASM heap and much of it stays resident. A new directory is copied from the template made
 * at install time (`npm ci`), or, when there is none, initialised by a short-lived child process.
 */
export async function provisionPGliteDataDir(
  directory: string,
  options: { log: Logger; templateDir?: string },
): Promise<ProvisionedFrom> {
  if (await isDataDir(directory)) return 'existing';
  if (!(await isMissingOrEmpty(directory))) {
    throw new Error(
      `${directory} exists but holds no database (no PG_VERSION); move it away so a new one can be created`,
    );
  }
  await mkdir(dirname(directory), { recursive: true, mode: 0o700 });
  const template = options.templateDir ?? pgliteTemplateDir();
  // Staged beside the target and renamed into place: an interrupted start never leaves half a database.
  const staging = `${directory}.partial-${randomBytes(6).toString('hex')}`;
  try {
    let from: ProvisionedFrom;
    if (await isDataDir(template)) {
      await cp(template, staging, { recursive: true, errorOnExist: true, force: false });
      from = 'template';
    } else {
      options.log.warn(
        { template },
        'no pre-initialised database template (made by `npm ci`); running initdb in a child process',
      );
      await runInitdb(staging);
      from = 'initdb';
    }
    await rmdir(directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, directory);
    return from;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Builds the install-time template once (`npm ci` runs it); returns its path. */
export async function buildPGliteTemplate(): Promise<string> {
  const template = pgliteTemplateDir();
  if (await isDataDir(template)) return template;
  const staging = `${template}.partial-${randomBytes(6).toString('hex')}`;
  try {
    await rm(template, { recursive: true, force: true });
    await runInitdb(staging);
    await rename(staging, template).catch(async (error: unknown) => {
      // Another install finished first: its template is as good as this one.
      if (!(await isDataDir(template))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return template;
}

async function runInitdb(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  await execFileAsync(process.execPath, [initdbScript, target], {
    timeout: initdbTimeoutMs,
    killSignal: 'SIGKILL',
  }).catch((error: unknown) => {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n');
    throw new Error(`initdb of ${target} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  });
}

async function isDataDir(directory: string): Promise<boolean> {
  return stat(join(directory, 'PG_VERSION')).then(
    (found) => found.isFile(),
    () => false,
  );
}

async function isMissingOrEmpty(directory: string): Promise<boolean> {
  return readdir(directory).then(
    (entries) => entries.length === 0,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return true;
      throw error;
    },
  );
}
