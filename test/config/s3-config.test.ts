import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'guardian-s3-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const complete = {
  DATA_DIR: join(dir, 'data'),
  S3_BUCKET: 'media',
  S3_REGION: 'eu-west-1',
  S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
};

describe('S3 settings', () => {
  it('accepts a complete set, credentials from _FILE too', () => {
    const secretFile = join(dir, 's3-secret');
    writeFileSync(secretFile, 'from-a-file\n');
    const { S3_SECRET_ACCESS_KEY: _secret, ...rest } = complete;
    const config = loadConfig({
      ...rest,
      S3_SECRET_ACCESS_KEY_FILE: secretFile,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: 'guardian/',
    });
    expect(config).toMatchObject({
      S3_BUCKET: 'media',
      S3_SECRET_ACCESS_KEY: 'from-a-file',
      S3_FORCE_PATH_STYLE: true,
      S3_PREFIX: 'guardian/',
    });
    expect(loadConfig({ DATA_DIR: complete.DATA_DIR })).toMatchObject({
      S3_BUCKET: undefined,
      S3_FORCE_PATH_STYLE: false,
      S3_PREFIX: '',
    });
  });

  it('refuses a bucket without its region or credentials, naming each', () => {
    expect(() => loadConfig({ DATA_DIR: complete.DATA_DIR, S3_BUCKET: 'media' })).toThrow(
      /S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: required with S3_BUCKET/,
    );
    const { S3_SECRET_ACCESS_KEY: _secret, ...withoutSecret } = complete;
    expect(() => loadConfig(withoutSecret)).toThrow(/S3_SECRET_ACCESS_KEY: required with S3_BUCKET/);
    const { S3_REGION: _region, ...withoutRegion } = complete;
    expect(() => loadConfig(withoutRegion)).toThrow(/S3_REGION: required with S3_BUCKET/);
  });

  it('refuses settings that would be ignored and malformed values, never echoing a secret', () => {
    expect(() => loadConfig({ DATA_DIR: complete.DATA_DIR, S3_ACCESS_KEY_ID: 'AKIDEXAMPLE' })).toThrow(
      /S3_ACCESS_KEY_ID: set without S3_BUCKET/,
    );
    expect(() => loadConfig({ ...complete, S3_ENDPOINT: 'ftp://minio' })).toThrow(/S3_ENDPOINT/);
    expect(() => loadConfig({ ...complete, S3_FORCE_PATH_STYLE: 'yes' })).toThrow(/S3_FORCE_PATH_STYLE/);
    expect(() => loadConfig({ ...complete, S3_PREFIX: '../x' })).toThrow(/S3_PREFIX/);
    try {
      loadConfig({ ...complete, S3_REGION: undefined });
    } catch (error) {
      expect(String(error)).not.toContain(complete.S3_SECRET_ACCESS_KEY);
    }
  });
});
