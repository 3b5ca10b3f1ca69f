import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { AppError } from '../services/errors.js';
import { analyzeCommand } from './commands/analyze.command.js';
import { auditCommand } from './commands/audit.command.js';
import { apiKeyCommand, orgCommand } from './commands/manage.command.js';
import { outboxCommand } from './commands/outbox.command.js';
import { configCheckCommand, migrateCommand, serveCommand, workerCommand } from './commands/run.command.js';
import { userCommand } from './commands/user.command.js';
import type { CliCommand } from './cli-command.js';

const commands: Record<string, CliCommand> = {
  serve: serveCommand,
  worker: workerCommand,
  migrate: migrateCommand,
  analyze: analyzeCommand,
  org: orgCommand,
  apikey: apiKeyCommand,
  user: userCommand,
  audit: auditCommand,
  outbox: outboxCommand,
  config: configCheckCommand,
};

const usage = `usage: guardian <command>

  serve                                   API server with in-process workers (npm start)
  worker                                  analysis workers only (needs DATABASE_URL and REDIS_URL)
  migrate                                 apply database migrations
  analyze FILE [--json]                   analyse a file without any server; --json prints the report
  org create NAME                         create an organisation
  org list                                list organisations
  apikey create --org NAME --name LABEL [--role admin|analyst|viewer|auditor] [--expires-days N]
                                          create an API key (printed once, on the last line)
  user create --email EMAIL --org NAME --role ROLE [--password-file PATH]
                                          create a user; the password is the first line of PATH or of stdin
  audit verify                            check the audit log's hash chain (exit 1 naming the first bad entry)
  outbox list [--org NAME] [--limit N]    mail held in the outbox (no SMTP_URL) or sent from it, newest first
  config check                            validate the environment configuration

Configuration comes from environment variables: see docs/configuration.md.`;

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`guardian: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    const parsed = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    return await command.run({
      positionals: parsed.positionals,
      values: parsed.values,
      loadConfig: () => loadConfig(),
    });
  } catch (error) {
    console.error(`guardian ${name}: ${describe(error)}`);
    return error instanceof ConfigError || error instanceof TypeError ? 2 : 1;
  }
}

function describe(error: unknown): string {
  if (error instanceof AppError) return `${error.detail ?? error.title} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
