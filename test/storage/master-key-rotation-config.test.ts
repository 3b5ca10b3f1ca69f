import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { forgetPreviousGeneratedKeys, promoteNewGeneratedKey } from '../../src/storage/master-key-files.js';
import { kekFromMasterKey, loadOrCreateMasterKey } from '../../src/storage/master-key.js';
import { testLogger } from '../helpers/databases.js';
import { withTempDir } from './storage-fixtures.js';

const load = (dataDir: string, env: { configured?: string; configuredPrevious?: string } = {}) =>
  loadOrCreateMasterKey({
    ...env,
    configured: env.configured,
    dataDir,
    production: false,
    log: testLogger(),
  });

describe('master keys during a rotation', () => {
  it('keeps the old generated key as previous across a restart, until it is forgotten', async () => {
    await withTempDir(async (dataDir) => {
      const first = await load(dataDir);
      const promoted = await promoteNewGeneratedKey(dataDir);
      expect(promoted.current.id).not.toBe(first.current.id);
      expect(promoted.previous.map((kek) => kek.id)).toEqual([first.current.id]);
      for (const name of ['master.key', 'master.key.previous'])
        expect((await stat(join(dataDir, name))).mode & 0o777).toBe(0o600);

      const restarted = await load(dataDir);
      expect(restarted.current.id).toBe(promoted.current.id);
      expect(restarted.previous.map((kek) => kek.id)).toEqual([first.current.id]);

      // A second rotation keeps both older keys until retirement.
      const third = await promoteNewGeneratedKey(dataDir);
      expect(third.previous.map((kek) => kek.id)).toEqual([first.current.id, promoted.current.id]);

      await forgetPreviousGeneratedKeys(dataDir);
      expect((await load(dataDir)).previous).toEqual([]);
    });
  });

  it('refuses a damaged master.key.previous rather than starting without the old key', async () => {
    await withTempDir(async (dataDir) => {
      await load(dataDir);
      await writeFile(join(dataDir, 'master.key.previous'), 'not a key\n');
      await expect(load(dataDir)).rejects.toThrow(/master\.key\.previous does not hold valid master keys/);
    });
  });

  it('reads MASTER_KEY_PREVIOUS (or its _FILE) as unwrap-only keys, dropping duplicates of the current one', async () => {
    const current = randomBytes(32).toString('hex');
    const [old1, old2] = [randomBytes(32), randomBytes(32)];
    await withTempDir(async (dir) => {
      const file = join(dir, 'previous');
      await writeFile(file, `${old1.toString('hex')}\n${old2.toString('base64')}\n${current}\n`);
      const config = loadConfig({ MASTER_KEY: current, MASTER_KEY_PREVIOUS_FILE: file });
      const keyring = await load(dir, {
        configured: config.MASTER_KEY,
        configuredPrevious: config.MASTER_KEY_PREVIOUS,
      });
      expect(keyring.previous.map((kek) => kek.id)).toEqual([
        kekFromMasterKey(old1).id,
        kekFromMasterKey(old2).id,
      ]);
      expect(await readFile(file, 'utf8')).toContain(current);
    });
  });

  it('names a bad MASTER_KEY_PREVIOUS entry without echoing it', () => {
    const secretish = `${'cd'.repeat(31)}zz`;
    try {
      loadConfig({ MASTER_KEY: 'ab'.repeat(32), MASTER_KEY_PREVIOUS: `${'ef'.repeat(32)}, ${secretish}` });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/MASTER_KEY_PREVIOUS entry 2: must be 32 bytes/);
      expect(problems).not.toContain(secretish);
    }
  });
});
