import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A database dump as a stream, and what made it. */
export interface DatabaseDump {
  tool: string;
  stream: Readable | AsyncIterable<Buffer>;
}

// libpq reads these from the environment: the password never appears in the tools' argv (visible in `ps`).
const libpqParameters: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
};

/** DATABASE_URL as libpq environment variables for pg_dump / pg_restore; unknown parameters are refused. */
export function libpqEnvironment(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error('DATABASE_URL must be a postgres:// URL for pg_dump and pg_restore');
  const env: Record<string, string> = {};
  if (url.hostname) env.PGHOST = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  for (const [name, value] of url.searchParams) {
    const variable = libpqParameters[name];
    if (!variable)
      throw new Error(
        `DATABASE_URL parameter "${name}" is not passed on to pg_dump/pg_restore (supported: ${Object.keys(libpqParameters).join(', ')})`,
      );
    env[variable] = value;
  }
  if (!env.PGDATABASE) throw new Error('DATABASE_URL names no database');
  return env;
}

/** `pg_dump --version` from PATH, e.g. "pg_dump (PostgreSQL) 15.20". */
export async function postgresToolVersion(tool: 'pg_dump' | 'pg_restore'): Promise<string> {
  const output: Buffer[] = [];
  const code = await runTool(tool, ['--version'], {}, { stdout: (chunk) => output.push(chunk) });
  if (code !== 0) throw new Error(`${tool} --version failed`);
  return Buffer.concat(output).toString('utf8').trim();
}

/**
 * A consistent dump (pg_dump runs in one repeatable-read snapshot) in pg_dump's custom format, streamed:
 * no plaintext copy touches the disk. The stream fails when pg_dump exits non-zero.
 */
export async function pgDump(databaseUrl: string): Promise<DatabaseDump> {
  const env = libpqEnvironment(databaseUrl);
  const tool = await postgresToolVersion('pg_dump');
  const child = spawnTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges'], env);
  const stderr = collectStderr(child.stderr);
  const exited = exitCodeOf(child);
  async function* stream(): AsyncGenerator<Buffer> {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    const code = await exited;
    if (code !== 0) throw new Error(`pg_dump failed (exit ${code}): ${stderr()}`);
  }
  return { tool, stream: stream() };
}

/** Loads a custom-format dump in one transaction: a failed restore leaves the database as it was. */
export async function pgRestore(databaseUrl: string, dump: Readable): Promise<void> {
  const env = libpqEnvironment(databaseUrl);
  const child = spawnTool(
    'pg_restore',
    [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
      `--dbname=${env.PGDATABASE ?? ''}`,
    ],
    env,
  );
  const stderr = collectStderr(child.stderr);
  const exited = exitCodeOf(child);
  child.stdout.resume();
  // pg_restore closing its input early (it failed) is reported by its exit code and stderr, not as EPIPE.
  const fed = pipeline(dump, child.stdin).catch((error: unknown) => error);
  const code = await exited;
  const feedError = await fed;
  if (code !== 0) throw new Error(`pg_restore failed (exit ${code}): ${stderr()}`);
  if (feedError) throw feedError;
}

/** Unpacks a PGlite data-directory tarball as `directory` (staged beside it, then renamed into place). */
export async function loadPGliteDataDir(directory: string, tarball: Buffer): Promise<void> {
  await mkdir(dirname(directory), { recursive: true, mode: 0o700 });
  const staging = `${directory}.partial-${randomBytes(6).toString('hex')}`;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(staging, { loadDataDir: new Blob([tarball]) });
    await pglite.query('checkpoint');
    await pglite.close();
    await rename(staging, directory);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function spawnTool(tool: string, args: string[], env: Record<string, string>) {
  const child = spawn(tool, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return child;
}

async function runTool(
  tool: string,
  args: string[],
  env: Record<string, string>,
  handlers: { stdout(chunk: Buffer): void },
): Promise<number> {
  const child = spawnTool(tool, args, env);
  child.stdin.end();
  child.stdout.on('data', handlers.stdout);
  child.stderr.resume();
  return exitCodeOf(child);
}

function exitCodeOf(child: ReturnType<typeof spawn>): Promise<number> {
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${String(child.spawnfile)} not found on PATH (install the PostgreSQL client tools)`)
          : error,
      ),
    );
    child.once('close', (code) => resolve(code ?? 1));
  });
  // Awaited later by the caller; a spawn failure must not count as unhandled meanwhile.
  exited.catch(() => undefined);
  return exited;
}

function collectStderr(stream: Readable | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    // The last few lines name the problem; a long stderr is cut from the front.
    text = (text + chunk).slice(-4000);
  });
  return () => text.trim().split('\n').slice(-5).join('\n');
}
