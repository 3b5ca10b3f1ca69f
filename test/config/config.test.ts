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
