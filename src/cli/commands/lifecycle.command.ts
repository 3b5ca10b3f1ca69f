import { callAdminSocket, noServer } from '../../app/admin-socket.js';
import type { Config } from '../../config/config.schema.js';
import type { CliCommand } from '../cli-command.js';

type Verb = 'retention.run' | 'housekeeping.run';

/** In the running server (embedded mode, through its admin socket), else against the database and blobs. */
async function runLifecycle(config: Config, verb: Verb): Promise<unknown> {
  if (!config.DATABASE_URL) {
    const viaServer = await callAdminSocket(config.DATA_DIR, verb, {});
    if (viaServer !== noServer) return viaServer;
  }
  const { openLifecycleContext } = await import('../../app/lifecycle-context.js');
  const { createLogger } = await import('../../app/logger.js');
  const context = await openLifecycleContext(config, createLogger({ LOG_LEVEL: 'warn' }));
  try {
    return verb === 'retention.run' ? await context.retention.run() : await context.housekeeping.run();
  } finally {
    await context.close();
  }
}

const command = (name: 'retention' | 'housekeeping', verb: Verb, what: string): CliCommand => ({
  async run({ positionals, loadConfig }) {
    if (positionals.join(' ') !== 'run') {
      console.error(`usage: guardian ${name} run`);
      return 2;
    }
    const result = await runLifecycle(loadConfig(), verb);
    console.log(`${what}: ${JSON.stringify(result)}`);
    return 0;
  },
});

/** `guardian retention run`: crypto-shreds media past its organisation's retention period, now. */
export const retentionCommand = command('retention', 'retention.run', 'retention run');
/** `guardian housekeeping run`: purges expired sessions, tokens, delivered mail, old finished jobs, orphan blobs and stale temp files, now. */
export const housekeepingCommand = command('housekeeping', 'housekeeping.run', 'housekeeping purged');
