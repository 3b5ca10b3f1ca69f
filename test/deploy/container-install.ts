// `npm run test:container`: the container image's build and start steps, run on this host from the same scripts
// the Dockerfile runs. Minutes (a full `npm ci` from the registry), so not part of `npm test`.
//   1. copies this checkout's sources (git-tracked and untracked-but-not-ignored files) to a temp dir;
//   2. deploy/container/install.sh OUT: npm ci (+ prepare), npm prune --omit=dev, runtime files to OUT;
//   3. from OUT: `serve` with the root file system read-only and DATA_DIR the only writable path, /livez 200,
//      the HEALTHCHECK command, nothing outside DATA_DIR changed, exit 0 on SIGTERM;
//   4. with TEST_DATABASE_URL and TEST_REDIS_URL: `worker` the same way, on a database of its own.
// Everything it made is removed at the end (KEEP=1 keeps the temp dir and says where).
// INSTALLED_APP_DIR=DIR skips 1-2 and checks DIR, an OUT made earlier (or an image's /app copied out).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  canIsolateMounts,
  filesChangedSince,
  freePort,
  makeSandbox,
  repoRoot,
  runHealthcheck,
  productionServeEnv,
  startApp,
  waitFor200,
  writeMarker,
} from './container-run.js';

const installTimeoutMs = 30 * 60_000;
const results: { name: string; ok: boolean; detail: string }[] = [];

function record(name: string, ok: boolean, detail = ''): void {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

async function copySources(to: string): Promise<void> {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const files = listed.stdout.split('\0').filter((file) => file !== '' && existsSync(join(repoRoot, file)));
  await writeFile(join(to, '..', 'files.list'), files.join('\0'));
  const tar = spawnSync(
    'sh',
    [
      '-c',
      `tar -C "$1" --null -T "$2" -cf - | tar -C "$3" -xf -`,
      'copy',
      repoRoot,
      join(to, '..', 'files.list'),
      to,
    ],
    { encoding: 'utf8' },
  );
  if (tar.status !== 0) throw new Error(`copying the sources failed: ${tar.stderr}`);
}

async function runInstall(srcDir: string, outDir: string, logPath: string): Promise<number> {
  const log = createWriteStream(logPath);
  const started = performance.now();
  const child = spawn('sh', ['deploy/container/install.sh', outDir], {
    cwd: srcDir,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const timer = setTimeout(() => child.kill('SIGKILL'), installTimeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  log.end();
  if (code !== 0) {
    const text = await readFile(logPath, 'utf8');
    throw new Error(`install.sh exited ${code}:\n${text.split('\n').slice(-40).join('\n')}`);
  }
  return performance.now() - started;
}

async function checkServe(appDir: string, isolate: boolean, root: string): Promise<void> {
  const sandbox = await makeSandbox();
  const marker = join(root, 'marker');
  await writeMarker(marker);
  const port = await freePort();
  const app = startApp({
    appDir,
    dataDir: sandbox.dataDir,
    isolate,
    args: ['serve'],
    env: productionServeEnv(sandbox.secretsDir, port),
  });
  try {
    const ms = await waitFor200(`http://127.0.0.1:${port}/livez`, app, 120_000);
    record('serve: /livez 200 from the installed image files', true, `${Math.round(ms)} ms`);
    record('serve: HEALTHCHECK command passes', runHealthcheck(appDir, port) === 0);
    const changed = filesChangedSince(appDir, marker, []);
    record(
      'serve: nothing under the app directory changed',
      changed.length === 0,
      changed.slice(0, 5).join(', '),
    );
    record('serve: database in DATA_DIR', existsSync(join(sandbox.dataDir, 'db', 'PG_VERSION')));
    const code = await app.stop();
    record('serve: exit 0 on SIGTERM', code === 0, `exit ${code}`);
  } catch (error) {
    record('serve', false, (error as Error).message);
    await app.stop();
  } finally {
    await sandbox.cleanup();
  }
}

async function checkWorker(appDir: string, isolate: boolean): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    console.log('skip worker: TEST_DATABASE_URL and TEST_REDIS_URL are not both set');
    return;
  }
  const database = `guardian_container_${process.pid}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const sandbox = await makeSandbox();
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  await writeFile(join(sandbox.secretsDir, 'test_database_url'), url.toString());
  await writeFile(join(sandbox.secretsDir, 'test_redis_url'), redisUrl);
  const app = startApp({
    appDir,
    dataDir: sandbox.dataDir,
    isolate,
    args: ['worker'],
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL_FILE: join(sandbox.secretsDir, 'test_database_url'),
      REDIS_URL_FILE: join(sandbox.secretsDir, 'test_redis_url'),
      REDIS_KEY_PREFIX: `container-test-${process.pid}`,
      MASTER_KEY_FILE: join(sandbox.secretsDir, 'master_key'),
      LOG_SIGNING_KEY_FILE: join(sandbox.secretsDir, 'log_signing_key.pem'),
    },
  });
  try {
    const started = performance.now();
    while (!app.output().includes('"worker started"') && performance.now() - started < 120_000) {
      if (app.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const ok = app.output().includes('"worker started"');
    record(
      'worker: started on PostgreSQL and Redis',
      ok,
      ok ? `${Math.round(performance.now() - started)} ms` : app.output().slice(-2000),
    );
    const code = await app.stop(60_000);
    record('worker: exit 0 on SIGTERM', code === 0, `exit ${code}`);
  } finally {
    await sandbox.cleanup();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

const root = await mkdtemp(join(tmpdir(), 'guardian-image-'));
try {
  const srcDir = join(root, 'src');
  const appDir = process.env.INSTALLED_APP_DIR ?? join(root, 'app');
  const isolate = canIsolateMounts();
  console.log(
    `container install check in ${root} (read-only mounts: ${isolate ? 'yes' : 'no: find-based check only'})`,
  );
  if (!process.env.INSTALLED_APP_DIR) {
    await mkdir(srcDir);
    await copySources(srcDir);
    const installMs = await runInstall(srcDir, appDir, join(root, 'install.log'));
    record('install.sh (npm ci, prepare, prune, copy)', true, `${Math.round(installMs / 1000)} s`);
    await rm(srcDir, { recursive: true, force: true });
  }
  const devOnly = ['vitest', 'vite', 'eslint', 'tsx', 'prettier', '@redocly/cli'].filter((name) =>
    existsSync(join(appDir, 'node_modules', name)),
  );
  record('dev dependencies pruned', devOnly.length === 0, devOnly.join(', '));
  const runtime = [
    'bin/guardian.js',
    'dist/cli/main.js',
    'dist/web/index.html',
    'calibration',
    'docs/user-guide.md',
  ];
  const missing = runtime.filter((path) => !existsSync(join(appDir, path)));
  record('runtime files present', missing.length === 0, missing.join(', '));
  await checkServe(appDir, isolate, root);
  await checkWorker(appDir, isolate);
} catch (error) {
  record('container install check', false, (error as Error).message);
} finally {
  if (process.env.KEEP === '1') console.log(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
const failed = results.filter((result) => !result.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
