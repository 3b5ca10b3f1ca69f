import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGuardian, startGuardian } from '../helpers/guardian-process.js';

const dir = mkdtempSync(join(tmpdir(), 'guardian-user-cli-'));
const env = { DATA_DIR: join(dir, 'data'), PORT: '0', LOG_LEVEL: 'info' };
const stdinPassword = 'stdin canary passphrase 7f3a';
const filePassword = 'file canary passphrase 91bd';
const socketPassword = 'socket canary passphrase c4e2';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function signIn(baseUrl: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  return response.status;
}

// Each CLI run starts Node with tsx and opens the embedded database: seconds each on a busy machine.
describe('guardian user create', { timeout: 240_000 }, () => {
  it('creates the first admin with the password from stdin, or the first line of --password-file', async () => {
    expect((await runGuardian(['org', 'create', 'Newsroom'], env)).code).toBe(0);
    const fromStdin = await runGuardian(
      ['user', 'create', '--email', 'First.Admin@Example.org', '--org', 'Newsroom', '--role', 'admin'],
      env,
      { input: `${stdinPassword}\nignored second line\n` },
    );
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/created admin first\.admin@example\.org in "Newsroom"/);
    const passwordFile = join(dir, 'password.txt');
    writeFileSync(passwordFile, `${filePassword}\n`, { mode: 0o600 });
    const fromFile = await runGuardian(
      [
        'user',
        'create',
        '--email',
        'analyst@example.org',
        '--org',
        'Newsroom',
        '--role',
        'analyst',
        '--password-file',
        passwordFile,
      ],
      env,
    );
    expect(fromFile.code, fromFile.stderr).toBe(0);
    for (const result of [fromStdin, fromFile]) {
      expect(result.stdout + result.stderr).not.toContain('canary');
    }
  });

  it('has no way to take a password from argv', async () => {
    const flag = await runGuardian(
      [
        'user',
        'create',
        '--email',
        'x@example.org',
        '--org',
        'Newsroom',
        '--role',
        'viewer',
        '--password',
        'in argv 12345',
      ],
      env,
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--password'/);
    const positional = await runGuardian(
      [
        'user',
        'create',
        'in argv 12345',
        '--email',
        'x@example.org',
        '--org',
        'Newsroom',
        '--role',
        'viewer',
      ],
      env,
    );
    expect(positional.code).toBe(2);
    expect(positional.stderr).toMatch(/usage: guardian user create/);
  });

  it('applies the password policy and refuses a taken email or unknown organisation', async () => {
    const create = (email: string, org: string, input: string) =>
      runGuardian(['user', 'create', '--email', email, '--org', org, '--role', 'viewer'], env, { input });
    const short = await create('short@example.org', 'Newsroom', 'seven77\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password-too-short/);
    const common = await create('common@example.org', 'Newsroom', 'password1\n');
    expect(common.stderr).toMatch(/password-too-common/);
    const taken = await create('FIRST.ADMIN@example.org', 'Newsroom', `${stdinPassword}\n`);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already exists/);
    const noOrg = await create('someone@example.org', 'Nowhere', `${stdinPassword}\n`);
    expect(noOrg.stderr).toMatch(/organisation "Nowhere" not found/);
  });

  it('works while `guardian serve` runs (through the admin socket), and the accounts can sign in', async () => {
    const server = await startGuardian('serve', env);
    try {
      const baseUrl = server.url ?? '';
      const viaSocket = await runGuardian(
        ['user', 'create', '--email', 'viewer@example.org', '--org', 'Newsroom', '--role', 'viewer'],
        env,
        { input: `${socketPassword}\n` },
      );
      expect(viaSocket.code, viaSocket.stderr).toBe(0);
      expect(server.logs()).toMatch(/"command":"user.create"/);
      expect(await signIn(baseUrl, 'viewer@example.org', socketPassword)).toBe(200);
      expect(await signIn(baseUrl, 'first.admin@example.org', stdinPassword)).toBe(200);
      expect(await signIn(baseUrl, 'analyst@example.org', filePassword)).toBe(200);
      expect(await signIn(baseUrl, 'analyst@example.org', 'ignored second line')).toBe(401);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.logs()).not.toContain('canary');
  });
});
