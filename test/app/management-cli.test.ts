import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';

const knownOrg = 'Known Desk';
const keyLine = /^sag_[A-Za-z0-9_-]{43}$/m;

interface Case {
  title: string;
  args: string[];
  code: number;
  /** What stderr must say. */
  says: RegExp[];
}

const orgUsage = /usage: guardian org create NAME/;
const apiKeyUsage = /usage: guardian apikey create --org NAME --name LABEL/;

/** Refused while parsing the command line: the database is never opened. */
const usageCases: Case[] = [
  { title: 'org create without a name prints usage', args: ['org', 'create'], code: 2, says: [orgUsage] },
  { title: 'org without a verb prints usage', args: ['org'], code: 2, says: [orgUsage] },
  {
    title: 'apikey create without --org prints usage',
    args: ['apikey', 'create', '--name', 'laptop'],
    code: 2,
    says: [apiKeyUsage],
  },
  {
    title: 'apikey create without --name prints usage',
    args: ['apikey', 'create', '--org', knownOrg],
    code: 2,
    says: [apiKeyUsage],
  },
  { title: 'apikey without a verb prints usage', args: ['apikey'], code: 2, says: [apiKeyUsage] },
  {
    title: 'apikey create with --org but no value is refused',
    args: ['apikey', 'create', '--name', 'laptop', '--org'],
    code: 2,
    says: [/--org/],
  },
];

/** Refused by the management commands, in-process or in the running server. */
const commandCases: Case[] = [
  {
    title: 'apikey create for an unknown organisation names it',
    args: ['apikey', 'create', '--org', 'No Such Desk', '--name', 'laptop'],
    code: 1,
    says: [/organisation "No Such Desk" not found/],
  },
  {
    title: 'org create of an existing name says it exists',
    args: ['org', 'create', knownOrg],
    code: 1,
    says: [/"Known Desk" already exists/],
  },
  {
    title: 'apikey create with an unknown role names the role option',
    args: ['apikey', 'create', '--org', knownOrg, '--name', 'laptop', '--role', 'superuser'],
    code: 1,
    says: [/role/],
  },
];

async function expectRefusal({ args, code, says }: Case, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runGuardian(args, env);
  const label = `guardian ${args.join(' ')}: ${result.stderr}`;
  expect(result.code, label).toBe(code);
  for (const pattern of says) expect(result.stderr, label).toMatch(pattern);
  expect(result.stderr, label).not.toMatch(/\n\s+at |node_modules/);
  expect(result.stdout, label).not.toMatch(keyLine);
}

describe('guardian org / apikey errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-app-cli-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0' };

  beforeAll(async () => {
    const created = await runGuardian(['org', 'create', knownOrg], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(knownOrg);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints usage and exits 2 on missing arguments', async () => {
    await Promise.all(usageCases.map((usageCase) => expectRefusal(usageCase, env)));
  }, 120_000);

  describe('straight to the embedded database (no server running)', () => {
    it.each(commandCases)('$title', (commandCase) => expectRefusal(commandCase, env));
  });

  describe("through a running server's admin socket", () => {
    let server: RunningGuardian | undefined;

    beforeAll(async () => {
      server = await startGuardian('serve', env);
    });

    afterAll(async () => {
      const code = await server?.stop();
      expect(code).toBe(0);
    });

    it.each(commandCases)('$title', (commandCase) => expectRefusal(commandCase, env));

    it('went through the server (its log shows the admin commands)', () => {
      expect(server?.logs()).toMatch(/"msg":"admin command"/);
    });
  });
});
