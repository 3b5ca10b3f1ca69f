import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import type { CliCommand } from './cli-command.js';

// Each verb loads its own modules when it runs: `guardian help` imports none, `analyze` no server or database.
const commands: Record<string, () => Promise<CliCommand>> = {
  serve: async () => (await import('./commands/run.command.js')).serveCommand,
  worker: async () => (await import('./commands/run.command.js')).workerCommand,
  migrate: async () => (await import('./commands/run.command.js')).migrateCommand,
  analyze: async () => (await import('./commands/analyze.command.js')).analyzeCommand,
  eval: async () => (await import('./commands/eval.command.js')).evalCommand,
  calibrate: async () => (await import('./commands/calibrate.command.js')).calibrateCommand,
  org: async () => (await import('./commands/manage.command.js')).orgCommand,
  apikey: async () => (await import('./commands/manage.command.js')).apiKeyCommand,
  user: async () => (await import('./commands/user.command.js')).userCommand,
  audit: async () => (await import('./commands/audit.command.js')).auditCommand,
  outbox: async () => (await import('./commands/outbox.command.js')).outboxCommand,
  log: async () => (await import('./commands/log.command.js')).logCommand,
  keys: async () => (await import('./commands/keys.command.js')).keysCommand,
  flags: async () => (await import('./commands/flags.command.js')).flagsCommand,
  verify: async () => (await import('./commands/verify.command.js')).verifyCommand,
  config: async () => (await import('./commands/config.command.js')).configCheckCommand,
  backup: async () => (await import('./commands/backup.command.js')).backupCommand,
  retention: async () => (await import('./commands/lifecycle.command.js')).retentionCommand,
  housekeeping: async () => (await import('./commands/lifecycle.command.js')).housekeepingCommand,
};

const usage = `usage: guardian <command>

  serve                                   API server with in-process workers (npm start)
  worker                                  analysis workers only (needs DATABASE_URL and REDIS_URL)
  migrate                                 apply database migrations
  analyze FILE [--json] [--artifacts DIR] analyse a file without any server; --json prints the report,
                                          --artifacts writes what the detectors computed to DIR/<detector>/
  eval [--source-dir DIR] [--out DIR] [--kinds K,...] [--plan quick|core|full] [--quick] [--seed N] [--json]
                                          ROC-AUC per manipulation kind on synthetic manipulations of face photos
  calibrate --authentic DIR [--manipulated DIR] [--method platt|isotonic] [--out FILE]
                                          detector scores on known media, written as a CALIBRATION_FILE
  org create NAME                         create an organisation
  org list                                list organisations
  apikey create --org NAME --name LABEL [--role admin|analyst|viewer|auditor] [--expires-days N]
                                          create an API key (printed once, on the last line)
  user create --email EMAIL --org NAME --role ROLE [--password-file PATH]
                                          create a user; the password is the first line of PATH or of stdin
  audit verify                            check the audit log's hash chain (exit 1 naming the first bad entry)
  log check [--from-size N] [--json]      re-derive the transparency log from its leaves, check every signed tree
                                          head and look for forks (exit 1 naming the first bad leaf index)
  log rotate-key                          replace the generated log signing key (the old public key stays listed)
  keys status [--json]                    which master key wraps how many objects; the last rotation's progress
  keys rotate [--generate] [--json]       re-wrap every data key under the current master key while serving
                                          (resumes an interrupted rotation); --generate first makes a new
                                          DATA_DIR/master.key (embedded, MASTER_KEY unset)
  keys retire [--json]                    once nothing is under an old key: retire it and say how to destroy it
  verify BUNDLE [--media FILE] [--trusted-key KEY]... [--tsa-root FILE]... [--solana-rpc URL] [--strict] [--json]
                                          check an evidence bundle offline (exit 0 only if no check fails;
                                          with --strict, also none left unchecked, e.g. a TSA chain without
                                          --tsa-root or a Solana anchor without --solana-rpc)
  flags list|get KEY [--json]             feature flags (docs/feature-flags.md); every change is audited
  flags set KEY [--type T] [--variants JSON] [--default V] [--description TEXT]
                                          create a flag (boolean on/off by default) or change its variants
  flags enable|disable|delete KEY         switch a flag on or off (off: every caller gets its code default)
  flags rollout KEY V=W[,V=W...] | --clear
                                          percentage rollout by organisation or user id (weights W)
  flags override KEY --org NAME (--variant V | --clear)
                                          pin one organisation to a variant
  outbox list [--org NAME] [--limit N]    mail held in the outbox (no SMTP_URL) or sent from it, newest first
  backup create --to DIR                  back up the database and every blob into a new directory, sealed under
                                          the master key (through the running server in embedded mode)
  backup verify --from DIR                check a backup: manifest, file hashes, the dump decrypts (exit 1 naming
                                          each problem)
  backup restore --from DIR [--shred-ledger FILE]...
                                          restore into an EMPTY deployment (exit 2 if it holds data), leaving out
                                          every blob in the shred ledgers of this and sibling backups
  config check                            validate the environment configuration (exit 2 naming each problem)
  retention run                           crypto-shred media past its organisation's retention period now
                                          (the server also queues this every LIFECYCLE_INTERVAL_SECONDS)
  housekeeping run                        purge expired sessions, used or expired one-time tokens, delivered
                                          mail and old finished or failed jobs, and blobs no record refers
                                          to or temp files of interrupted writes older than an hour, now

Configuration comes from environment variables: see docs/configuration.md.
Exit codes: 0 done, 1 failed, 2 usage or configuration error.`;

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`guardian: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    const command = await load();
    const parsed = parseCommandArgs(command, rest);
    if ('usageError' in parsed) {
      console.error(`guardian ${name}: ${parsed.usageError}`);
      return 2;
    }
    const { loadConfig } = await import('../config/load-config.js');
    return await command.run({ ...parsed, loadConfig: () => loadConfig() });
  } catch (error) {
    console.error(`guardian ${name}: ${await describe(error)}`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

function parseCommandArgs(command: CliCommand, args: string[]) {
  try {
    const { positionals, values } = parseArgs({
      args,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    return { positionals, values };
  } catch (error) {
    return { usageError: error instanceof Error ? error.message : String(error) };
  }
}

async function describe(error: unknown): Promise<string> {
  const { AppError } = await import('../services/errors.js');
  if (error instanceof AppError) return `${error.detail ?? error.title} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
