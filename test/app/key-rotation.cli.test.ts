import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { keyringFrom } from '../../src/storage/master-key.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { collect } from '../storage/storage-fixtures.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

// No server on the admin socket: the CLI does the work itself, as in scaled mode (or embedded, stopped).
describeEachImplementation(
  'guardian keys with configured keys',
  databaseImplementations(),
  (implementation) => {
    let store: TestDatabase;
    const savedEnv = { ...process.env };
    const blobs = new Map<string, Buffer>();

    beforeAll(async () => {
      store = await implementation.open();
      await store.close();
      const old = new EncryptedFsBlobStore({
        dataDir: store.settings.dataDir,
        keyring: keyringFrom(oldKey, []),
        log: testLogger(),
      });
      for (const key of ['media-aaaaaaaa', 'media-bbbbbbbb', 'analysis-artifacts-cccccccc']) {
        blobs.set(key, randomBytes(700));
        await old.put(key, Readable.from([blobs.get(key) ?? Buffer.alloc(0)]));
      }
    });

    afterAll(async () => {
      process.env = savedEnv;
      await store?.destroy();
    });

    async function cli(env: Record<string, string>, ...argv: string[]) {
      for (const name of ['DATABASE_URL', 'MASTER_KEY', 'MASTER_KEY_FILE', 'MASTER_KEY_PREVIOUS'])
        delete process.env[name];
      Object.assign(process.env, { DATA_DIR: store.settings.dataDir, LOG_LEVEL: 'silent' }, env);
      if (store.settings.databaseUrl) process.env.DATABASE_URL = store.settings.databaseUrl;
      const printed: string[] = [];
      const spies = [
        vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line))),
        vi.spyOn(console, 'error').mockImplementation((line: unknown) => void printed.push(String(line))),
      ];
      try {
        return { code: await main(argv), output: printed.join('\n') };
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    }

    it('rotates, retires, and then refuses the retired key as MASTER_KEY', async () => {
      const during = { MASTER_KEY: newKey.toString('hex'), MASTER_KEY_PREVIOUS: oldKey.toString('hex') };
      const generate = await cli(during, 'keys', 'rotate', '--generate');
      expect(generate.code).toBe(1);
      expect(generate.output).toMatch(/master-key-configured/);

      const rotated = await cli(during, 'keys', 'rotate', '--json');
      expect(rotated.code, rotated.output).toBe(0);
      expect(JSON.parse(rotated.output)).toMatchObject({ objectsDone: 3, generated: false });

      const reader = new EncryptedFsBlobStore({
        dataDir: store.settings.dataDir,
        keyring: keyringFrom(newKey, []),
        log: testLogger(),
      });
      for (const [key, bytes] of blobs)
        expect((await collect(await reader.read(key))).equals(bytes)).toBe(true);

      const retired = await cli(during, 'keys', 'retire');
      expect(retired.code, retired.output).toBe(0);
      expect(retired.output).toMatch(/remove MASTER_KEY_PREVIOUS \(or MASTER_KEY_PREVIOUS_FILE\)/);

      const backToOld = await cli({ MASTER_KEY: oldKey.toString('hex') }, 'keys', 'status');
      expect(backToOld.code).toBe(1);
      expect(backToOld.output).toMatch(/MASTER_KEY is the retired master key mk-[0-9a-f]{16}/);

      const status = await cli(during, 'keys', 'status');
      expect(status.code, status.output).toBe(0);
      expect(status.output).toMatch(/previous \(unwrap only\): mk-[0-9a-f]{16} {2}RETIRED: remove it/);
      expect(status.output).toMatch(/\(current\): 3 \(blobs 3\)/);
    });
  },
);
