import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configFields } from '../../src/config/config.schema.js';
import { renderEnvExample } from '../../src/config/env-example.js';
import { loadConfig } from '../../src/config/load-config.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const profiles = ['development', 'staging', 'production'] as const;
const scratch = mkdtempSync(join(tmpdir(), 'guardian-env-profiles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What each secret file a profile names would hold in a real deployment. */
const secretValues: Record<string, () => string> = {
  database_url: () => 'postgres://guardian:pw@db.internal:5432/guardian',
  redis_url: () => 'redis://:pw@redis.internal:6379',
  master_key: () => randomBytes(32).toString('hex'),
  log_signing_key: () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  s3_access_key_id: () => 'AKIAEXAMPLE',
  s3_secret_access_key: () => randomBytes(20).toString('hex'),
};

function profileEnv(profile: string): Record<string, string> {
  return parseEnv(read(`deploy/env/${profile}.env`)) as Record<string, string>;
}

describe('.env.example', () => {
  it('lists every setting of the config schema (run `npm run docs:config` after changing it)', () => {
    expect(read('.env.example')).toBe(renderEnvExample());
    for (const name of Object.keys(configFields)) expect(read('.env.example')).toContain(`# ${name}=`);
  });
});

describe.each(profiles)('deploy/env/%s.env', (profile) => {
  it('names only settings the platform reads', () => {
    const known = new Set<string>(Object.keys(configFields));
    for (const [name, field] of Object.entries(configFields))
      if ('secret' in field && field.secret) known.add(`${name}_FILE`);
    const unknown = Object.keys(profileEnv(profile)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('keeps secrets out of the file: only NAME_FILE paths', () => {
    const env = profileEnv(profile);
    for (const [name, field] of Object.entries(configFields))
      if ('secret' in field && field.secret) expect(env[name], name).toBeUndefined();
  });

  it('passes `guardian config check` once its secret files exist', () => {
    const env = profileEnv(profile);
    const dir = mkdtempSync(join(scratch, `${profile}-`));
    for (const [name, value] of Object.entries(env)) {
      const secret = /^\/run\/secrets\/(.+)$/.exec(value);
      if (secret) {
        const make = secretValues[secret[1]!];
        expect(make, `no sample value for ${value}`).toBeDefined();
        const path = join(dir, secret[1]!);
        writeFileSync(path, make!(), { mode: 0o600 });
        env[name] = path;
      }
    }
    env.DATA_DIR = dir;
    const config = loadConfig(env);
    expect(config.NODE_ENV).toBe(profile === 'development' ? 'development' : 'production');
  });
});
