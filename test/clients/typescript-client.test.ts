import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';

const run = promisify(execFile);
const clientDir = fileURLToPath(new URL('../../clients/typescript/', import.meta.url));
const openApiUrl = new URL('../../openapi.json', import.meta.url);
const requireHere = createRequire(import.meta.url);
const tsc = requireHere.resolve('typescript/bin/tsc');
// Absolute, so the example runs from a temporary directory (where it writes the bundle).
const tsxLoader = pathToFileURL(requireHere.resolve('tsx')).href;

describe('the TypeScript client package', () => {
  it('has types generated from the committed openapi.json (run `npm run client:api-types`)', async () => {
    const document = JSON.parse(readFileSync(openApiUrl, 'utf8')) as Parameters<typeof openapiTS>[0];
    const generated = astToString(await openapiTS(document, { silent: true }));
    const strip = (text: string) => text.replace(/^\/\*\*[\s\S]*?\*\/\n\n/, '').trim();
    expect(strip(readFileSync(join(clientDir, 'src/schema.d.ts'), 'utf8'))).toBe(strip(generated));
  });

  it('is a package of its own, not a workspace of the root', () => {
    const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(root.workspaces).toBeUndefined();
    const client = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(client).toMatchObject({
      name: '@secureai-guardian/client',
      version: '0.1.0',
      private: false,
      type: 'module',
      peerDependencies: { 'openapi-fetch': '0.17.0' },
    });
  });
});

describe('the client example against a real guardian serve', () => {
  let media: MediaTempDir;
  let server: RunningGuardian;
  let env: NodeJS.ProcessEnv;
  let clip: string;
  let apiKey: string;

  beforeAll(async () => {
    media = await createMediaTempDir('guardian-client-');
    env = { DATA_DIR: join(media.dir, 'data'), PORT: '0' };
    // Build the package (dist/, as `npm pack` would) and typecheck the example against it.
    await run(process.execPath, [tsc, '-p', join(clientDir, 'tsconfig.build.json')]);
    copyFileSync(join(clientDir, 'src/schema.d.ts'), join(clientDir, 'dist/schema.d.ts'));
    [server, clip] = await Promise.all([
      startGuardian('serve', env),
      generateClip(media.dir, { seconds: 1, size: '160x120', name: 'clip' }),
    ]);
    expect((await runGuardian(['org', 'create', 'Integrators'], env)).code).toBe(0);
    const created = await runGuardian(['apikey', 'create', '--org', 'Integrators', '--name', 'example'], env);
    apiKey = created.stdout.trim().split('\n').at(-1) ?? '';
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await media?.remove();
  });

  const runExample = (args: string[], extraEnv: NodeJS.ProcessEnv) =>
    run(process.execPath, ['--import', tsxLoader, join(clientDir, 'examples/analyze-file.ts'), ...args], {
      cwd: media.dir,
      env: { ...process.env, ...extraEnv },
      timeout: 120_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('typechecks the example against the built package', async () => {
    await expect(run(process.execPath, [tsc, '-p', join(clientDir, 'tsconfig.json')])).resolves.toBeDefined();
  }, 120_000);

  it('uploads a clip, prints its band in words and saves the evidence bundle unchanged', async () => {
    const result = await runExample([clip], { GUARDIAN_URL: server.url ?? '', GUARDIAN_API_KEY: apiKey });
    expect(result.code, result.stderr).toBe(0);
    const band = /^band: (\w+) \((.+)\)$/m.exec(result.stdout);
    expect(band?.[1]).toMatch(/^(indicators_found|inconclusive|no_indicators|not_analyzable)$/);
    expect(band?.[2]).not.toMatch(/authentic/i);
    const saved = /^evidence bundle: (\S+)/m.exec(result.stdout)?.[1] ?? '';
    const text = readFileSync(join(media.dir, saved), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'guardian-evidence-bundle-v1' });
    const verified = await runGuardian(['verify', join(media.dir, saved), '--media', clip], {});
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 150_000);

  it('fails with the API problem for a wrong key, and with usage without one', async () => {
    const refused = await runExample([clip], {
      GUARDIAN_URL: server.url ?? '',
      GUARDIAN_API_KEY: `sag_${'x'.repeat(43)}`,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401 unauthenticated/);
    const usage = await runExample([clip], { GUARDIAN_URL: '', GUARDIAN_API_KEY: '' });
    expect(usage.code).toBe(2);
    expect(existsSync(join(media.dir, 'evidence-undefined.json'))).toBe(false);
  }, 60_000);
});
