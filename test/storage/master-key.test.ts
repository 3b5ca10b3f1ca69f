import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findKek,
  kekFromMasterKey,
  loadOrCreateMasterKey,
  parseMasterKey,
} from '../../src/storage/master-key.js';
import { capturingLogger, withTempDir } from './storage-fixtures.js';

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it('accepts 64 hex characters and base64 of 32 bytes', () => {
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
  });

  it.each([
    '',
    'changeme',
    'ab'.repeat(31),
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64'),
  ])('refuses %j naming MASTER_KEY without echoing it', (value) => {
    expect(() => parseMasterKey(value)).toThrow(/^MASTER_KEY must be 32 bytes/);
    try {
      parseMasterKey(value);
    } catch (error) {
      if (value.length > 0) expect((error as Error).message).not.toContain(value);
    }
  });
});

describe('kekFromMasterKey', () => {
  it('names the key by a hash, never the key itself, and derives a distinct wrapping key', () => {
    const masterKey = randomBytes(32);
    const kek = kekFromMasterKey(masterKey);
    expect(kek.id).toMatch(/^mk-[0-9a-f]{16}$/);
    expect(masterKey.toString('hex')).not.toContain(kek.id.slice(3));
    expect(kek.version).toBe(1);
    expect(kek.key.equals(masterKey)).toBe(false);
    expect(kekFromMasterKey(masterKey)).toEqual(kek);
  });

  it('finds keys of a keyring by id and version', () => {
    const current = kekFromMasterKey(randomBytes(32));
    const previous = kekFromMasterKey(randomBytes(32));
    const keyring = { current, previous: [previous] };
    expect(findKek(keyring, previous.id, 1)).toBe(previous);
    expect(findKek(keyring, previous.id, 2)).toBeUndefined();
  });
});

describe('loadOrCreateMasterKey', () => {
  it('uses MASTER_KEY when configured and writes nothing', async () => {
    await withTempDir(async (dir) => {
      const masterKey = randomBytes(32);
      const { log } = capturingLogger();
      const keyring = await loadOrCreateMasterKey({
        configured: masterKey.toString('hex'),
        dataDir: dir,
        production: true,
        log,
      });
      expect(keyring.current).toEqual(kekFromMasterKey(masterKey));
      await expect(stat(join(dir, 'master.key'))).rejects.toThrow();
    });
  });

  it('refuses to start in production without MASTER_KEY', async () => {
    await withTempDir(async (dir) => {
      const { log } = capturingLogger();
      await expect(
        loadOrCreateMasterKey({ configured: undefined, dataDir: dir, production: true, log }),
      ).rejects.toThrow(/MASTER_KEY is required in production/);
    });
  });

  it('generates DATA_DIR/master.key once (0600 in a 0700 dir), warns without the key, and reuses it', async () => {
    await withTempDir(async (root) => {
      const dataDir = join(root, 'data');
      const { log, lines } = capturingLogger();
      const first = await loadOrCreateMasterKey({ configured: undefined, dataDir, production: false, log });
      const path = join(dataDir, 'master.key');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      const written = (await readFile(path, 'utf8')).trim();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/"level":40.*MASTER_KEY is not set/);
      expect(lines.join('')).not.toContain(written);
      const second = await loadOrCreateMasterKey({ configured: undefined, dataDir, production: false, log });
      expect(second.current).toEqual(first.current);
      expect(lines).toHaveLength(1);
    });
  });

  it('refuses a damaged key file without echoing its contents', async () => {
    await withTempDir(async (dataDir) => {
      await writeFile(join(dataDir, 'master.key'), 'not-a-key-at-all', { mode: 0o600 });
      const { log } = capturingLogger();
      const loading = loadOrCreateMasterKey({ configured: undefined, dataDir, production: false, log });
      await expect(loading).rejects.toThrow(/master\.key does not hold a valid master key/);
      await expect(loading).rejects.not.toThrow(/not-a-key-at-all/);
    });
  });

  it('agrees on one key when several processes start at once', async () => {
    await withTempDir(async (dataDir) => {
      const { log } = capturingLogger();
      const rings = await Promise.all(
        Array.from({ length: 8 }, () =>
          loadOrCreateMasterKey({ configured: undefined, dataDir, production: false, log }),
        ),
      );
      expect(new Set(rings.map((ring) => ring.current.id)).size).toBe(1);
    });
  });
});
