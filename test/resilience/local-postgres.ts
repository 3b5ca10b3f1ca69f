import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL server of the machine's own version, in a temp dir, on a free loopback port: a suite
 * may stop it (`-m immediate`, as a crash) and start it again without touching the shared test server.
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
 */
export interface LocalPostgres {
  url: string;
  /** `pg_ctl stop -m immediate`, asynchronous: requests of the test process stay in flight meanwhile. */
  stopImmediate(): Promise<void>;
  start(): void;
  destroy(): void;
}

const binDir = (() => {
  const base = '/usr/lib/postgresql';
  const version = existsSync(base) ? readdirSync(base).sort().at(-1) : undefined;
  return version ? join(base, version, 'bin') : null;
})();

export const localPostgresUnavailable: string | null = !binDir
  ? 'no PostgreSQL server binaries under /usr/lib/postgresql'
  : process.getuid?.() !== 0
    ? 'needs root (to run the throwaway cluster as the postgres user)'
    : null;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startLocalPostgres(): Promise<LocalPostgres> {
  if (localPostgresUnavailable || !binDir) throw new Error(`local PostgreSQL: ${localPostgresUnavailable}`);
  const dir = mkdtempSync(join(tmpdir(), 'guardian-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const port = await freePort();
  const data = join(dir, 'data');
  const asPostgres = (command: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(binDir, command), ...args], {
      stdio: 'ignore',
      timeout: 60_000,
    });
  asPostgres('initdb', ['-A', 'trust', '-U', 'postgres', '-D', data, '--no-sync']);
  const start = () =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  start();
  asPostgres('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'guardian']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/guardian`,
    stopImmediate: async () => {
      await promisify(execFile)(
        'runuser',
        ['-u', 'postgres', '--', join(binDir, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'],
        { timeout: 60_000 },
      );
    },
    start,
    destroy() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
