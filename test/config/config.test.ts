import { execFileSync } from 'node:child_process';
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

  it('takes each anchor kind whole: TSA with its roots, Solana with keypair and cluster; never echoes the URLs', () => {
    const roots = join(dir, 'tsa-roots.pem');
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', join(dir, 'root.key'), '-out', roots, '-days', '1', '-subj', '/CN=Config Test Root'],
    ]);
    const secretUrl = 'https://tsa.example/stamp?apikey=canary-key';
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ DATA_DIR: dir, ...env });
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const found = (error as ConfigError).problems;
        expect(found.join('\n')).not.toMatch(/canary/);
        return found;
      }
    };
    expect(problems({ TSA_URL: secretUrl })).toEqual([
      'TSA_TRUSTED_ROOTS_FILE: required with TSA_URL (tokens are checked before they are stored)',
    ]);
    expect(
      problems({ TSA_URL: 'ftp://tsa.example/?apikey=canary-key', TSA_TRUSTED_ROOTS_FILE: roots }),
    ).toEqual(['TSA_URL: must start with http:// or https:// (got ftp://)']);
    expect(problems({ TSA_TRUSTED_ROOTS_FILE: join(dir, 'missing.pem') })).toEqual([
      'TSA_TRUSTED_ROOTS_FILE: set without TSA_URL (no timestamps would be requested)',
      `TSA_TRUSTED_ROOTS_FILE: ${join(dir, 'missing.pem')} is not a readable file`,
    ]);
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    expect(problems({ TSA_URL: secretUrl, TSA_TRUSTED_ROOTS_FILE: notPem })[0]).toMatch(
      /TSA_TRUSTED_ROOTS_FILE: .* holds no readable PEM certificate/,
    );
    expect(problems({ SOLANA_RPC_URL: 'https://rpc.example/?api-key=canary-key' })).toEqual([
      'SOLANA_KEYPAIR_FILE, SOLANA_CLUSTER: Solana anchors need SOLANA_RPC_URL, SOLANA_KEYPAIR_FILE and SOLANA_CLUSTER together',
    ]);
    expect(problems({ SOLANA_CLUSTER: 'moonnet' })[0]).toMatch(/^SOLANA_CLUSTER: /);
    expect(
      problems({
        SOLANA_RPC_URL: 'https://rpc.example/?api-key=canary-key',
        SOLANA_KEYPAIR_FILE: join(dir, 'no-keypair.json'),
        SOLANA_CLUSTER: 'devnet',
      }),
    ).toEqual([`SOLANA_KEYPAIR_FILE: ${join(dir, 'no-keypair.json')} is not a readable file`]);
    const keypair = join(dir, 'keypair.json');
    writeFileSync(keypair, '[]');
    const accepted = loadConfig({
      DATA_DIR: dir,
      TSA_URL: secretUrl,
      TSA_TRUSTED_ROOTS_FILE: roots,
      SOLANA_RPC_URL: 'https://rpc.example/?api-key=canary-key',
      SOLANA_KEYPAIR_FILE: keypair,
      SOLANA_CLUSTER: 'devnet',
    });
    expect(accepted).toMatchObject({ SOLANA_CLUSTER: 'devnet', ANCHOR_INTERVAL_SECONDS: 600 });
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
