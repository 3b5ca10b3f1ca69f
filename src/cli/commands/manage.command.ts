import { callAdminSocket, noServer } from '../../app/admin-socket.js';
import type { ManagementCommands } from '../../app/management-commands.js';
import type { Config } from '../../config/config.schema.js';
import type { CliCommand } from '../cli-command.js';

/** Runs a management command in the running server (embedded mode) or directly against the database. */
export async function runManagement(
  config: Config,
  command: keyof ManagementCommands,
  args: unknown,
): Promise<unknown> {
  if (!config.DATABASE_URL) {
    const viaServer = await callAdminSocket(config.DATA_DIR, command, args);
    if (viaServer !== noServer) return viaServer;
  }
  // The database modules load only when no running server can take the command.
  const { openManagement } = await import('../../app/management-context.js');
  const management = await openManagement(config);
  try {
    return await (management.commands[command] as (input: unknown) => Promise<unknown>)(args);
  } finally {
    await management.close();
  }
}

export const orgCommand: CliCommand = {
  async run({ positionals, loadConfig }) {
    const [verb, name] = positionals;
    if (verb === 'create' && name && positionals.length === 2) {
      const org = (await runManagement(loadConfig(), 'org.create', { name })) as { id: string; name: string };
      console.log(`created organisation "${org.name}" (${org.id})`);
      return 0;
    }
    if (verb === 'list' && positionals.length === 1) {
      const orgs = (await runManagement(loadConfig(), 'org.list', {})) as { id: string; name: string }[];
      for (const org of orgs) console.log(`${org.id}  ${org.name}`);
      return 0;
    }
    console.error('usage: guardian org create NAME | guardian org list');
    return 2;
  },
};

export const apiKeyCommand: CliCommand = {
  options: {
    org: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', default: 'analyst' },
    'expires-days': { type: 'string' },
  },
  async run({ positionals, values, loadConfig }) {
    const { org, name, role } = values;
    if (positionals.join(' ') !== 'create' || typeof org !== 'string' || typeof name !== 'string') {
      console.error(
        'usage: guardian apikey create --org NAME --name LABEL [--role admin|analyst|viewer|auditor] [--expires-days N]',
      );
      return 2;
    }
    const expires = values['expires-days'];
    const created = (await runManagement(loadConfig(), 'apikey.create', {
      orgName: org,
      name,
      role,
      ...(typeof expires === 'string' ? { expiresInDays: Number(expires) } : {}),
    })) as { id: string; key: string; role: string; expiresAt: string | null };
    console.error(
      `created ${created.role} API key ${created.id} for "${org}"${created.expiresAt ? `, expires ${created.expiresAt}` : ''}; it is shown once:`,
    );
    console.log(created.key);
    return 0;
  },
};
