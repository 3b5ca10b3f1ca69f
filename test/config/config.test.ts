import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderConfigurationDoc } from '../../src/config/config-docs.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'guardian-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const validKey = 'ab'.repeat(32);

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      DATA_DIR: './data',
      NODE_ENV: 'development',
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ WORKER_CONCURRENCY: '-1' })).toThrow(/WORKER_CONCURRENCY/);
  });

  it('reads secrets from NAME_FILE and refuses both forms at once', () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, `${validKey}\n`);
    expect(loadConfig({ MASTER_KEY_FILE: file }).MASTER_KEY).toBe(validKey);
    expect(() => loadConfig({ MASTER_KEY_FILE: file, MASTER_KEY: validKey })).toThrow(
      /MASTER_KEY and MASTER_KEY_FILE/,
    );
    expect(() => loadConfig({ MASTER_KEY_FILE: join(dir, 'missing') })).toThrow(
      /MASTER_KEY_FILE: cannot read/,
    );
  });

  it('refuses production without a master key, with a default key, or on a public address without TLS', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/MASTER_KEY: required/);
    expect(() => loadConfig({ NODE_ENV: 'production', MASTER_KEY: 'changeme' })).toThrow(/default value/);
    const error = (() => {
      try {
        loadConfig({ NODE_ENV: 'production', MASTER_KEY: validKey, HOST: '0.0.0.0' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(/HOST: 0.0.0.0 is not loopback/);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        MASTER_KEY: validKey,
        HOST: '0.0.0.0',
        TRUSTED_PROXIES: '10.0.0.1',
      }).HOST,
    ).toBe('0.0.0.0');
  });

  it('refuses a master key that is not 32 bytes, in any mode, without echoing it', () => {
    for (const env of [{ MASTER_KEY: 'abc' }, { NODE_ENV: 'production', MASTER_KEY: 'abc' }]) {
      expect(() => loadConfig(env)).toThrow(/MASTER_KEY: must be 32 bytes .*\(got 3 characters\)/);
    }
    const file = join(dir, 'short.key');
    writeFileSync(file, 'not-a-key\n');
    expect(() => loadConfig({ MASTER_KEY_FILE: file })).toThrow(/MASTER_KEY: must be 32 bytes/);
    expect(loadConfig({ MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }).MASTER_KEY).toBeDefined();
  });

  it('checks connection URL schemes, proxy addresses and the sender address', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/guardian' })).toThrow(
      /DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//,
    );
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(
      /REDIS_URL: must start with redis:\/\//,
    );
    expect(() => loadConfig({ SMTP_URL: 'not a url' })).toThrow(/SMTP_URL: not a URL/);
    expect(() => loadConfig({ MAIL_FROM: 'Guardian' })).toThrow(/MAIL_FROM: no email address/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/33' })).toThrow(
      /TRUSTED_PROXIES: "10.0.0.0\/33"/,
    );
    const accepted = loadConfig({
      DATABASE_URL: 'postgresql://guardian@db.internal:5432/guardian',
      REDIS_URL: 'rediss://cache.internal:6380',
      TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16, 10.0.0.0/255.0.0.0, fd00::/8, loopback',
    });
    expect(accepted.TRUSTED_PROXIES).toContain('loopback');
  });

  it('checks the files and directory the settings name, creating nothing', () => {
    const notADirectory = join(dir, 'plain-file');
    writeFileSync(notADirectory, '');
    const error = (() => {
      try {
        loadConfig({
          TLS_CERT_FILE: join(dir, 'no-cert.pem'),
          TLS_KEY_FILE: notADirectory,
          FFPROBE_PATH: notADirectory,
          DATA_DIR: join(notADirectory, 'data'),
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `TLS_CERT_FILE: ${join(dir, 'no-cert.pem')} is not a readable file`,
      `FFPROBE_PATH: ${notADirectory} is not an executable file`,
      `DATA_DIR: ${notADirectory} (where ${join(notADirectory, 'data')} would be created) is not a directory`,
    ]);
    const fresh = join(dir, 'not-yet', 'data');
    expect(loadConfig({ DATA_DIR: fresh }).DATA_DIR).toBe(fresh);
    expect(() => readFileSync(join(dir, 'not-yet'))).toThrow(/ENOENT/);
  });

  it('requires TLS certificate and key together', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x.pem' })).toThrow(/TLS_CERT_FILE and TLS_KEY_FILE/);
  });
});

describe('docs/configuration.md', () => {
  it('matches the config schema (run `npm run docs:config` after changing it)', () => {
    const committed = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderConfigurationDoc());
  });
});
