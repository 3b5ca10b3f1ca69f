import type { CliCommand } from '../cli-command.js';

// The configuration is validated whole before the server, worker or database modules are even loaded.
export const serveCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const { runServer } = await import('../../app/server.js');
    return exitAfterShutdown(await runServer(config));
  },
};

export const workerCommand: CliCommand = {
  async run({ loadConfig }) {
    const config = loadConfig();
    const { runWorker } = await import('../../app/worker.js');
    return exitAfterShutdown(await runWorker(config));
  },
};

/**
 * The orderly shutdown is done (drained, database closed, "stopped" logged): exit, so that no handle left by a
 * library can hold a stopped process open (seen: tsx's esbuild service when the server runs from source).
 */
function exitAfterShutdown(code: number): never {
  process.exit(code);
}

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
