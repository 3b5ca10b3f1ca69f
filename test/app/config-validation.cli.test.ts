import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGuardian } from '../helpers/guardian-process.js';

const root = mkdtempSync(join(tmpdir(), 'guardian-config-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A DATA_DIR path of its own for each case; `existing` creates it empty. */
function dataDir(existing: boolean): string {
  const path = join(root, `data-${(dirs += 1)}`);
  if (existing) mkdirSync(path);
  return path;
}

// Variables a developer's shell may carry that would change the mode under test.
const clean = { DATABASE_URL: '', REDIS_URL: '', SMTP_URL: '', TRUSTED_PROXIES: '', LOG_LEVEL: 'info' };
const productionWithShortKey = { ...clean, NODE_ENV: 'production', MASTER_KEY: 'abc' };

/** The "  - NAME: ..." lines of a ConfigError. */
const problemLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('  - '));

describe('configuration is validated whole before DATA_DIR is touched', () => {
  it.each([
    { command: 'config check', existing: false },
    { command: 'serve', existing: false },
    { command: 'serve', existing: true },
    { command: 'migrate', existing: true },
  ])(
    '$command refuses NODE_ENV=production MASTER_KEY=abc with exit 2 (DATA_DIR existing: $existing)',
    async ({ command, existing }) => {
      const dir = dataDir(existing);
      const result = await runGuardian(command.split(' '), { ...productionWithShortKey, DATA_DIR: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/MASTER_KEY: must be 32 bytes/);
      expect(result.stderr).not.toContain('abc');
      expect(result.stdout).not.toMatch(/configuration is valid/);
      if (existing) expect(readdirSync(dir)).toEqual([]);
      else expect(() => readdirSync(dir)).toThrow(/ENOENT/);
    },
  );

  it('config check and serve report the same problems, every variable named', async () => {
    const notADirectory = join(root, 'a-file');
    writeFileSync(notADirectory, 'not a directory');
    const env = {
      ...clean,
      MASTER_KEY: 'zz'.repeat(32),
      REDIS_URL: 'http://127.0.0.1:6379',
      TRUSTED_PROXIES: '10.0.0.0/8, proxy.example',
      TLS_CERT_FILE: join(root, 'missing-cert.pem'),
      TLS_KEY_FILE: join(root, 'missing-key.pem'),
      DATA_DIR: join(notADirectory, 'data'),
    };
    const [check, serve] = await Promise.all([
      runGuardian(['config', 'check'], env),
      runGuardian(['serve'], env),
    ]);
    expect([check.code, serve.code]).toEqual([2, 2]);
    const problems = problemLines(check.stderr);
    expect(problems.map((line) => /^ {2}- (\w+):/.exec(line)?.[1])).toEqual([
      'MASTER_KEY',
      'REDIS_URL',
      'TRUSTED_PROXIES',
      'TLS_CERT_FILE',
      'TLS_KEY_FILE',
      'DATA_DIR',
    ]);
    expect(problemLines(serve.stderr)).toEqual(problems);
  });

  it('worker without DATABASE_URL is a configuration error (exit 2), before anything is opened', async () => {
    const dir = dataDir(false);
    const result = await runGuardian(['worker'], { ...clean, DATA_DIR: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DATABASE_URL: guardian worker needs it/);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  it('config check accepts a valid production configuration and creates nothing', async () => {
    const dir = dataDir(false);
    const result = await runGuardian(['config', 'check'], {
      ...clean,
      NODE_ENV: 'production',
      MASTER_KEY: 'ab'.repeat(32),
      DATA_DIR: dir,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/MASTER_KEY=\(set, hidden\)\n[\s\S]*configuration is valid/);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });
});
