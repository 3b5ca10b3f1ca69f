import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseCertificates } from '../evidence/anchors/rfc3161/trusted-roots.js';
import { parseLogSigningKey } from '../evidence/log-signing-key.js';
import { parseMasterKey, parseMasterKeyList } from '../storage/master-key.js';
import { parseNetwork } from '../webhooks/ip-address-class.js';
import type { Config } from './config.schema.js';

// proxy-addr (Fastify's trustProxy) also accepts these names for whole address ranges.
const proxyRangeNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Forms the schema cannot express: key encoding, URL schemes, proxy addresses. Never echoes a secret. */
export function valueProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.MASTER_KEY !== undefined) {
    try {
      parseMasterKey(config.MASTER_KEY);
    } catch (error) {
      problems.push(`MASTER_KEY: ${(error as Error).message.replace(/^MASTER_KEY /, '')}`);
    }
  }
  if (config.MASTER_KEY_PREVIOUS !== undefined) {
    try {
      parseMasterKeyList(config.MASTER_KEY_PREVIOUS);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (config.LOG_SIGNING_KEY !== undefined) {
    try {
      parseLogSigningKey(config.LOG_SIGNING_KEY);
    } catch (error) {
      problems.push(`LOG_SIGNING_KEY: ${(error as Error).message.replace(/^LOG_SIGNING_KEY /, '')}`);
    }
  }
  problems.push(
    ...urlProblem('DATABASE_URL', config.DATABASE_URL, ['postgres:', 'postgresql:']),
    ...urlProblem('REDIS_URL', config.REDIS_URL, ['redis:', 'rediss:']),
    ...urlProblem('SMTP_URL', config.SMTP_URL, ['smtp:', 'smtps:']),
    ...urlProblem('TSA_URL', config.TSA_URL, ['http:', 'https:']),
    ...urlProblem('SOLANA_RPC_URL', config.SOLANA_RPC_URL, ['http:', 'https:']),
    ...urlProblem('S3_ENDPOINT', config.S3_ENDPOINT, ['http:', 'https:']),
    ...anchorCombinationProblems(config),
    ...s3Problems(config),
  );
  if (config.MAIL_FROM !== undefined && !/@[^@\s>]+/.test(config.MAIL_FROM)) {
    problems.push('MAIL_FROM: no email address in it (e.g. `SecureAI Guardian <guardian@example.org>`)');
  }
  for (const entry of (config.TRUSTED_PROXIES ?? '').split(',').map((part) => part.trim())) {
    if (entry && !isProxyEntry(entry)) {
      problems.push(
        `TRUSTED_PROXIES: "${entry}" is not an IP address, a CIDR range or ${[...proxyRangeNames].join('/')}`,
      );
    }
  }
  for (const entry of (config.WEBHOOK_ALLOWED_NETWORKS ?? '').split(',').map((part) => part.trim())) {
    if (!entry) continue;
    try {
      parseNetwork(entry);
    } catch {
      problems.push(`WEBHOOK_ALLOWED_NETWORKS: "${entry}" is not an IP address or a CIDR range`);
    }
  }
  return problems;
}

/** Files and directories the settings name, checked by looking only: DATA_DIR is neither created nor written. */
export function filesystemProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const name of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
    const path = config[name];
    if (path !== undefined && !isFileWith(path, constants.R_OK)) {
      problems.push(`${name}: ${path} is not a readable file`);
    }
  }
  for (const name of ['FFMPEG_PATH', 'FFPROBE_PATH'] as const) {
    const path = config[name];
    if (path !== undefined && !isFileWith(path, constants.X_OK)) {
      problems.push(`${name}: ${path} is not an executable file`);
    }
  }
  for (const name of ['SOLANA_KEYPAIR_FILE'] as const) {
    const path = config[name];
    if (path !== undefined && !isFileWith(path, constants.R_OK)) {
      problems.push(`${name}: ${path} is not a readable file`);
    }
  }
  if (config.TSA_TRUSTED_ROOTS_FILE !== undefined) {
    const problem = trustedRootsProblem(config.TSA_TRUSTED_ROOTS_FILE);
    if (problem) problems.push(`TSA_TRUSTED_ROOTS_FILE: ${problem}`);
  }
  for (const path of config.MODEL_CARDS ?? []) {
    if (!isFileWith(path, constants.R_OK)) problems.push(`MODEL_CARDS: ${path} is not a readable file`);
  }
  const dataDirProblem = writableDirectoryProblem(resolve(config.DATA_DIR));
  if (dataDirProblem) problems.push(`DATA_DIR: ${dataDirProblem}`);
  return problems;
}

/** Each anchor kind is all or nothing: a half-configured one would never anchor, or anchor unchecked. */
function anchorCombinationProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.TSA_URL !== undefined && config.TSA_TRUSTED_ROOTS_FILE === undefined)
    problems.push(
      'TSA_TRUSTED_ROOTS_FILE: required with TSA_URL (tokens are checked before they are stored)',
    );
  if (config.TSA_URL === undefined && config.TSA_TRUSTED_ROOTS_FILE !== undefined)
    problems.push('TSA_TRUSTED_ROOTS_FILE: set without TSA_URL (no timestamps would be requested)');
  const solana = {
    SOLANA_RPC_URL: config.SOLANA_RPC_URL,
    SOLANA_KEYPAIR_FILE: config.SOLANA_KEYPAIR_FILE,
    SOLANA_CLUSTER: config.SOLANA_CLUSTER,
  };
  const set = Object.entries(solana).filter(([, value]) => value !== undefined);
  if (set.length > 0 && set.length < 3) {
    const missing = Object.keys(solana).filter((name) => solana[name as keyof typeof solana] === undefined);
    problems.push(
      `${missing.join(', ')}: Solana anchors need SOLANA_RPC_URL, SOLANA_KEYPAIR_FILE and SOLANA_CLUSTER together`,
    );
  }
  return problems;
}

/** With S3_BUCKET every blob goes to S3: a bucket the platform cannot reach is refused before start-up. */
function s3Problems(config: Config): string[] {
  const related = {
    S3_REGION: config.S3_REGION,
    S3_ENDPOINT: config.S3_ENDPOINT,
    S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY,
  };
  if (config.S3_BUCKET === undefined) {
    const stray = Object.keys(related).filter((name) => related[name as keyof typeof related] !== undefined);
    return stray.length > 0
      ? [`${stray.join(', ')}: set without S3_BUCKET (blobs would stay in DATA_DIR)`]
      : [];
  }
  const missing = ['S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter(
    (name) => related[name as keyof typeof related] === undefined,
  );
  return missing.length > 0
    ? [`${missing.join(', ')}: required with S3_BUCKET (the bucket's region and credentials, or their _FILE)`]
    : [];
}

function trustedRootsProblem(path: string): string | null {
  if (!isFileWith(path, constants.R_OK)) return `${path} is not a readable file`;
  try {
    parseCertificates(readFileSync(path, 'utf8'));
    return null;
  } catch (error) {
    return `${path} holds no readable PEM certificate (${(error as Error).message})`;
  }
}

function urlProblem(name: string, value: string | undefined, protocols: string[]): string[] {
  if (value === undefined) return [];
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    return [`${name}: not a URL (expected ${protocols.map((p) => `${p}//`).join(' or ')}…)`];
  }
  return protocols.includes(protocol)
    ? []
    : [`${name}: must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${protocol}//)`];
}

function isProxyEntry(entry: string): boolean {
  if (proxyRangeNames.has(entry) || isIP(entry) !== 0) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0 || prefix === undefined) return false;
  if (family === 4 && isIP(prefix) === 4) return true; // a netmask: 10.0.0.0/255.0.0.0
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function isFileWith(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Null when the directory exists and is writable, or can be created in the nearest existing parent. */
function writableDirectoryProblem(directory: string): string | null {
  for (let path = directory; ; path = dirname(path)) {
    let found;
    try {
      found = statSync(path, { throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: a file further up the path, which the next step names.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR')
        return `cannot look at ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    if (found) {
      const what = path === directory ? directory : `${path} (where ${directory} would be created)`;
      if (!found.isDirectory()) return `${what} is not a directory`;
      try {
        accessSync(path, constants.W_OK | constants.X_OK);
        return null;
      } catch {
        return `${what} is not writable by this user`;
      }
    }
    if (dirname(path) === path) return `${directory} has no existing parent directory`;
  }
}
