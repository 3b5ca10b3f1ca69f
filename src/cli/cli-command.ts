import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config/config.schema.js';

export interface CliInvocation {
  positionals: string[];
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  loadConfig(): Config;
}

export interface CliCommand {
  options?: ParseArgsConfig['options'];
  run(invocation: CliInvocation): Promise<number>;
}
