import { configFields } from '../../config/config.schema.js';
import type { CliCommand } from '../cli-command.js';

/** `guardian config check`: the same loadConfig every other command runs first; nothing is opened or created. */
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
