import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const recorder = fileURLToPath(new URL('./fixtures/record-imports.ts', import.meta.url));
const cliEntry = fileURLToPath(new URL('../support/guardian-cli.ts', import.meta.url));
let temp: MediaTempDir;

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-cli-imports-');
});
afterAll(() => temp.remove());

/** Runs `guardian ARGS` from source and returns its exit code and the modules it imported. */
async function importsOf(args: string[], name: string): Promise<{ code: number | null; modules: string[] }> {
  const log = join(temp.dir, `${name}.imports`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', recorder, cliEntry, ...args], {
      cwd: repoRoot,
      env: { ...process.env, RECORD_IMPORTS_TO: log, DATABASE_URL: '', REDIS_URL: '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
    .map((url) => fileURLToPath(url).slice(repoRoot.length));
  return { code, modules };
}

const loaded = (modules: string[], prefix: string) => modules.filter((path) => path.startsWith(prefix));

describe('each CLI verb imports only what it uses', () => {
  it('help loads no configuration, server, database or media module', async () => {
    const { code, modules } = await importsOf(['help'], 'help');
    expect(code).toBe(0);
    expect(loaded(modules, 'src/').sort()).toEqual(['src/cli/main.ts', 'src/config/config-error.ts']);
    expect(loaded(modules, 'node_modules/')).toEqual([]);
  });

  it('analyze loads the pipeline but no server, database, queue or mail module', async () => {
    const still = await generateStill(temp.dir, { size: '64x64' });
    const { code, modules } = await importsOf(['analyze', '--json', still], 'analyze');
    expect(code).toBe(0);
    expect(loaded(modules, 'src/pipeline/').length).toBeGreaterThan(0);
    for (const unused of [
      'src/app/',
      'src/http/',
      'src/db/',
      'src/queue/',
      'src/repositories/',
      'src/mail/',
    ]) {
      expect(loaded(modules, unused)).toEqual([]);
    }
    for (const unused of [
      'fastify',
      '@electric-sql/pglite',
      'pg',
      'kysely',
      'bullmq',
      'ioredis',
      'nodemailer',
    ]) {
      expect(loaded(modules, `node_modules/${unused}/`)).toEqual([]);
    }
  });
});
