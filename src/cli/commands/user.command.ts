import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { roles, type Role } from '../../db/schema.js';
import type { CliCommand } from '../cli-command.js';
import { runManagement } from './manage.command.js';

const usage =
  'usage: guardian user create --email EMAIL --org NAME --role admin|analyst|viewer|auditor [--password-file PATH]\n' +
  '       the password is read from the first line of PATH, or of standard input (never from the command line)';

/** The first line of standard input; on a terminal, asked for without echo. */
export async function readPasswordFromStdin(
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<string> {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  if (input.isTTY) process.stderr.write('Password: ');
  const lines = createInterface({
    input,
    output: input.isTTY ? silent : undefined,
    terminal: Boolean(input.isTTY),
  });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
    if (input.isTTY) process.stderr.write('\n');
  }
}

async function readPasswordFile(path: string): Promise<string> {
  const content = await readFile(path, 'utf8');
  return content.split(/\r?\n/, 1)[0] ?? '';
}

export const userCommand: CliCommand = {
  options: {
    email: { type: 'string' },
    org: { type: 'string' },
    role: { type: 'string' },
    'password-file': { type: 'string' },
  },
  async run({ positionals, values, loadConfig }) {
    const { email, org, role } = values;
    const passwordFile = values['password-file'];
    if (
      positionals.join(' ') !== 'create' ||
      typeof email !== 'string' ||
      typeof org !== 'string' ||
      typeof role !== 'string' ||
      !roles.includes(role as Role)
    ) {
      console.error(usage);
      return 2;
    }
    const config = loadConfig();
    const password =
      typeof passwordFile === 'string' ? await readPasswordFile(passwordFile) : await readPasswordFromStdin();
    const created = (await runManagement(config, 'user.create', { email, orgName: org, role, password })) as {
      id: string;
      email: string;
      role: string;
    };
    console.log(`created ${created.role} ${created.email} in "${org}" (${created.id})`);
    return 0;
  },
};
