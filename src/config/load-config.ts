import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { filesystemProblems, valueProblems } from './config-checks.js';
import { ConfigError } from './config-error.js';
import { configFields, configSchema, type Config, type ConfigName } from './config.schema.js';

export { ConfigError };

type Env = Record<string, string | undefined>;

/**
 * Resolves NAME_FILE for secret variables, then validates everything at once: forms, production rules and the
 * files the settings name, reporting every problem. Every command calls it before touching DATA_DIR, and
 * `guardian config check` is this function and nothing more.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const raw: Record<string, string | undefined> = {};
  for (const [name, field] of Object.entries(configFields) as [ConfigName, { secret?: boolean }][]) {
    raw[name] = env[name];
    const filePath = env[`${name}_FILE`];
    if (field.secret && filePath) {
      if (env[name]) problems.push(`${name} and ${name}_FILE are both set; set one`);
      try {
        raw[name] = readFileSync(filePath, 'utf8').trim();
      } catch (error) {
        problems.push(
          `${name}_FILE: cannot read ${filePath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  problems.push(
    ...valueProblems(parsed.data),
    ...productionProblems(parsed.data),
    ...filesystemProblems(parsed.data),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

const defaultSecrets = new Set(['changeme', 'change-me', 'secret', 'password', '0'.repeat(64)]);

function productionProblems(config: Config): string[] {
  const problems: string[] = [];
  if ((config.TLS_CERT_FILE === undefined) !== (config.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (config.HTTP_REDIRECT_PORT !== undefined && config.TLS_CERT_FILE === undefined) {
    problems.push('HTTP_REDIRECT_PORT needs TLS_CERT_FILE/TLS_KEY_FILE (it redirects to the HTTPS listener)');
  }
  if (config.NODE_ENV !== 'production') return problems;
  if (!config.MASTER_KEY) problems.push('MASTER_KEY: required in production (or MASTER_KEY_FILE)');
  else if (defaultSecrets.has(config.MASTER_KEY.toLowerCase()))
    problems.push('MASTER_KEY: a default value is refused');
  if (config.SMTP_URL) {
    if (!config.PUBLIC_URL?.startsWith('https://'))
      problems.push(
        'PUBLIC_URL: production with SMTP_URL needs the https URL users reach (it goes into mailed links)',
      );
    if (!config.MAIL_FROM) problems.push('MAIL_FROM: required in production with SMTP_URL');
  }
  const tls = config.TLS_CERT_FILE !== undefined;
  if (!isLoopback(config.HOST) && !tls && !config.TRUSTED_PROXIES) {
    problems.push(
      `HOST: ${config.HOST} is not loopback; production needs TLS_CERT_FILE/TLS_KEY_FILE or TRUSTED_PROXIES`,
    );
  }
  return problems;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
