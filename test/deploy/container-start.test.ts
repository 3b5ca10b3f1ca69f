// The container image's start step, run on this host: deploy/container/start.sh (the image's ENTRYPOINT) starts
// `guardian serve` from this checkout's build (dist/, the PGlite template, the web app: what `npm ci` made) with
// the root file system read-only and DATA_DIR the only writable path, and the image's HEALTHCHECK command
// (deploy/container/healthcheck.mjs) passes. The full form, `npm ci` + prune + copy into a fresh directory by
// deploy/container/install.sh (the Dockerfile's build step), is `npm run test:container` (minutes, not in npm test).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  type RunningApp,
  type Sandbox,
} from './container-run.js';

// The paths install.sh copies into the image: none of them may change while the app runs.
const runtimePaths = ['package.json', 'bin', 'dist', '.pglite-template', 'calibration', 'docs', 'deploy'];

describe('container start step (deploy/container/start.sh) on the host', () => {
  const isolate = canIsolateMounts();
  let sandbox: Sandbox;
  let app: RunningApp;
  let port: number;
  let marker: string;
  let startMs: number;

  beforeAll(async () => {
    expect(existsSync(join(repoRoot, 'dist/cli/main.js')), 'dist/ is built by npm ci (prepare)').toBe(true);
    sandbox = await makeSandbox();
    marker = join(sandbox.root, 'marker');
    await writeMarker(marker);
    port = await freePort();
    app = startApp({
      appDir: repoRoot,
      dataDir: sandbox.dataDir,
      isolate,
      args: ['serve'],
      env: { ...productionServeEnv(sandbox.secretsDir, port), LIFECYCLE_INTERVAL_SECONDS: '0' },
    });
    startMs = await waitFor200(`http://127.0.0.1:${port}/livez`, app, 60_000);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await sandbox?.cleanup();
  });

  it('answers /livez with 200 and passes the image HEALTHCHECK command', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/livez`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(runHealthcheck(repoRoot, port)).toBe(0);
    console.log(
      `container start step: /livez 200 after ${Math.round(startMs)} ms (isolated mounts: ${isolate})`,
    );
  });

  it('writes only DATA_DIR: its database is there, nothing under the app directory changed', () => {
    expect(existsSync(join(sandbox.dataDir, 'db', 'PG_VERSION'))).toBe(true);
    expect(app.output()).not.toMatch(/EROFS|read-only file system/i);
    const changed = runtimePaths
      .map((path) => join(repoRoot, path))
      .filter((path) => existsSync(path))
      .flatMap((path) => filesChangedSince(path, marker, []));
    const changedModules = filesChangedSince(join(repoRoot, 'node_modules'), marker, [
      // vitest's own cache, written by the test runner, not by the app.
      join(repoRoot, 'node_modules', '.vite'),
      join(repoRoot, 'node_modules', '.cache'),
    ]);
    expect([...changed, ...changedModules]).toEqual([]);
  });

  it('stops cleanly on SIGTERM (exit 0), after which the HEALTHCHECK command fails', async () => {
    expect(await app.stop()).toBe(0);
    expect(runHealthcheck(repoRoot, port)).toBe(1);
  });
});
