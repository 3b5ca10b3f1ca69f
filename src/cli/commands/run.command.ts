import { runServer } from '../../app/server.js';
import { runWorker } from '../../app/worker.js';
import { createLogger } from '../../app/logger.js';
import { openManagement } from '../../app/management-context.js';
import { configFields } from '../../config/config.schema.js';
import type { CliCommand } from '../cli-command.js';

export const serveCommand: CliCommand = {
  run: async ({ loadConfig }) => runServer(loadConfig()),
};

export const workerCommand: CliCommand = {
  run: async ({ loadConfig }) => runWorker(loadConfig()),
};

export const migrateCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const management = await openManagement(config, createLogger(config));
    await management.close();
    console.log(
      `migrations applied (${config.DATABASE_URL ? 'PostgreSQL' : `embedded database in ${config.DATA_DIR}`})`,
    );
    return 0;
  },
};

export const configCheckCommand: CliCommand = {
  async run({ positionals, loadConfig }) {
    if (positionals.join(' ') !== 'check') {
      console.error('usage: guardian config check');
      return 2;
    }
    const config = loadConfig();
    for (const [name, field] of Object.entries(configFields)) {
      const value = config[name as keyof typeof config];
      const shown =
        value === undefined ? '(unset)' : 'secret' in field && field.secret ? '(set, hidden)' : String(value);
      console.log(`${name}=${shown}`);
    }
    console.log('configuration is valid');
    return 0;
  },
};
