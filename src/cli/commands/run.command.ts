import type { CliCommand } from '../cli-command.js';

// The configuration is validated whole before the server, worker or database modules are even loaded.
export const serveCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const { runServer } = await import('../../app/server.js');
    return runServer(config);
  },
};

export const workerCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const { runWorker } = await import('../../app/worker.js');
    return runWorker(config);
  },
};

export const migrateCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const [{ openManagement }, { createLogger }] = await Promise.all([
      import('../../app/management-context.js'),
      import('../../app/logger.js'),
    ]);
    const management = await openManagement(config, createLogger(config));
    await management.close();
    console.log(
      `migrations applied (${config.DATABASE_URL ? 'PostgreSQL' : `embedded database in ${config.DATA_DIR}`})`,
    );
    return 0;
  },
};
