import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createKeyRotationRepository } from '../../src/repositories/key-rotation.repository.js';
import { createSealedTotpRepository } from '../../src/repositories/sealed-totp.repository.js';
import { createTotpRepository } from '../../src/repositories/totp.repository.js';
import type { AuditEvent } from '../../src/services/audit-log.js';
import {
  checkRetiredKeys,
  createKeyRotationService,
  type KeyRotationService,
} from '../../src/services/key-rotation.service.js';
import { totpSecretObjects } from '../../src/services/totp-secret-objects.js';
import { createTotpService, totpSecretObjectKey } from '../../src/services/totp.service.js';
import { artifactBlobKey } from '../../src/services/analysis-artifacts.service.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { EncryptedTusDataStore } from '../../src/storage/encrypted-tus.datastore.js';
import { keyringFrom, liveKeyring, type Keyring, type LiveKeyring } from '../../src/storage/master-key.js';
import {
  blobStoreObjects,
  stagedUploadObjects,
  type MasterKeyedObjects,
} from '../../src/storage/master-keyed-objects.js';
import { openSealedBuffer } from '../../src/storage/sealed-buffer.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { capturingLogger, collect } from './storage-fixtures.js';

const segmentBytes = 64;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const onlyOld = () => keyringFrom(oldKey, []);
const onlyNew = () => keyringFrom(newKey, []);

/** Counts rewraps and, when armed, fails the one after the first `failAfter`: an interrupted rotation. */
function instrumented(inner: MasterKeyedObjects, failAfter = Number.POSITIVE_INFINITY) {
  const calls: string[] = [];
  const wrapper: MasterKeyedObjects & { calls: string[]; onRewrap?: (n: number) => Promise<void> } = {
    name: inner.name,
    calls,
    keys: () => inner.keys(),
    kekOf: (key) => inner.kekOf(key),
    async rewrap(key) {
      if (calls.length >= failAfter) throw new Error('disk on fire (injected)');
      calls.push(key);
      await wrapper.onRewrap?.(calls.length);
      return inner.rewrap(key);
    },
  };
  return wrapper;
}

describeEachImplementation('master key rotation', databaseImplementations(), (implementation) => {
  let store: TestDatabase;
  let dataDir: string;
  let keyring: LiveKeyring;
  let blobStore: EncryptedFsBlobStore;
  let tus: EncryptedTusDataStore;
  let audit: AuditEvent[];
  const contents = new Map<string, Buffer>();
  let totpUserId: string;
  let totpSecret: string;
  let stagedId: string;

  const storeWith = (ring: Keyring) =>
    new EncryptedFsBlobStore({ dataDir, keyring: ring, log: testLogger(), segmentBytes });
  const tusWith = (ring: Keyring) =>
    new EncryptedTusDataStore({
      dataDir,
      keyring: ring,
      blobStore: storeWith(ring),
      maxUploadBytes: 1 << 20,
      expirySeconds: 3600,
      segmentBytes,
    });

  function service(
    collections: readonly MasterKeyedObjects[],
    options: { checkpointEvery?: number } = {},
  ): KeyRotationService {
    return createKeyRotationService({
      keyring,
      collections,
      rotations: createKeyRotationRepository({ db: store.db }),
      audit: { append: async (event) => void audit.push(event) },
      generatedKeyFiles: null,
      now: () => new Date(),
      log: testLogger(),
      ...options,
    });
  }
  const allCollections = () => ({
    blobs: blobStoreObjects(blobStore),
    staged: stagedUploadObjects({ dataDir, keyring }),
    totp: totpSecretObjects({ totp: createSealedTotpRepository({ db: store.db }), keyring }),
  });

  // One database per file (opening one is the slow part); each test starts from empty rotation tables.
  beforeAll(async () => {
    store = await implementation.open();
  });

  afterAll(async () => {
    await store?.destroy();
  });

  beforeEach(async () => {
    await store.db.deleteFrom('key_rotations').execute();
    await store.db.deleteFrom('retired_master_keys').execute();
    await store.db.deleteFrom('user_totp').execute();
    dataDir = await mkdtemp(join(tmpdir(), 'guardian-rotation-'));
    keyring = liveKeyring(onlyOld());
    blobStore = new EncryptedFsBlobStore({ dataDir, keyring, log: testLogger(), segmentBytes });
    tus = tusWith(keyring);
    audit = [];
    contents.clear();
    // Media of several sizes (empty, one segment, many segments) and an analysis artifact blob.
    const keys = [
      `media-${randomUUID()}`,
      `media-${randomUUID()}`,
      `media-${randomUUID()}`,
      artifactBlobKey(randomUUID()),
    ];
    const sizes = [0, 40, 1000, 300];
    for (const [index, key] of keys.entries()) {
      const bytes = randomBytes(sizes[index] ?? 0);
      await blobStore.put(key, Readable.from([bytes]));
      contents.set(key, bytes);
    }
    // A resumable upload half-way through, with sealed client metadata.
    stagedId = `upload${randomBytes(8).toString('hex')}`;
    await tus.create(new Upload({ id: stagedId, size: 200, offset: 0, metadata: { filename: 'clip.mp4' } }));
    await tus.write(Readable.from([randomBytes(130)]), stagedId, 0);
    // A TOTP secret sealed in the database.
    const org = await store.db
      .insertInto('organisations')
      .values({ id: randomUUID(), name: `Org ${randomUUID()}` })
      .returning('id')
      .executeTakeFirstOrThrow();
    totpUserId = randomUUID();
    await store.db
      .insertInto('users')
      .values({
        id: totpUserId,
        org_id: org.id,
        email: `${totpUserId}@example.org`,
        password_hash: 'x',
        role: 'analyst',
      })
      .execute();
    const totpService = createTotpService({
      totp: createTotpRepository({ db: store.db }),
      keyring,
      now: () => new Date(),
    });
    totpSecret = (await totpService.enrol({ id: totpUserId, email: 'a@example.org' })).secret;
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function readsWith(ring: Keyring) {
    const reader = storeWith(ring);
    const blobs = await Promise.all(
      [...contents].map(async ([key, bytes]) =>
        collect(await reader.read(key)).then(
          (read) => read.equals(bytes),
          (error: Error) => error.name,
        ),
      ),
    );
    const staged = await tusWith(ring)
      .getUpload(stagedId)
      .then(
        (upload) => upload.metadata?.filename === 'clip.mp4' && upload.offset === 128,
        (error: Error) => error.name,
      );
    const sealed = await createSealedTotpRepository({ db: store.db }).findSealed(totpUserId);
    const totp = await openSealedBuffer(sealed ?? Buffer.alloc(0), {
      objectKey: totpSecretObjectKey(totpUserId),
      keyring: ring,
    }).then(
      (secret) => secret.toString('utf8') === totpSecret,
      (error: Error) => error.name,
    );
    return { blobs, staged, totp };
  }

  it('re-wraps every blob, staged upload and TOTP secret: the new key alone reads all, the old key alone nothing', async () => {
    expect(await readsWith(onlyOld())).toEqual({ blobs: [true, true, true, true], staged: true, totp: true });
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const { blobs, staged, totp } = allCollections();
    const rotated = await service([blobs, staged, totp]).rotate();
    expect(rotated).toMatchObject({
      resumed: false,
      objectsDone: 7,
      alreadyCurrent: 0,
      collections: {
        blobs: { rewrapped: 4, alreadyCurrent: 0 },
        'staged-uploads': { rewrapped: 2 },
        'totp-secrets': { rewrapped: 1 },
      },
    });

    // Straight from the stores, with keyrings holding one key each.
    expect(await readsWith(onlyNew())).toEqual({ blobs: [true, true, true, true], staged: true, totp: true });
    const oldOnly = await readsWith(onlyOld());
    expect(oldOnly.blobs).toEqual(Array(4).fill('BlobIntegrityError'));
    expect(oldOnly.staged).toBe('BlobIntegrityError');
    expect(oldOnly.totp).toBe('BlobIntegrityError');

    // The upload goes on under the new key alone, and finishes.
    const resumedTus = tusWith(onlyNew());
    expect(await resumedTus.write(Readable.from([randomBytes(72)]), stagedId, 128)).toBe(200);
    expect((await resumedTus.finalize(stagedId, { headBytes: 4 })).sizeBytes).toBe(200);

    const status = await service([blobs, staged, totp]).status();
    expect(status.wrapped).toEqual([
      expect.objectContaining({
        kekId: keyring.current.id,
        role: 'current',
        total: 7,
        objects: { blobs: 4, 'staged-uploads': 2, 'totp-secrets': 1 },
      }),
    ]);
    expect(status.rotation).toMatchObject({ status: 'finished', objectsDone: 7 });
    expect(status.readyToRetire).toBe(true);
    expect(audit.map((event) => `${event.action}:${event.outcome}:${event.actor.type}`)).toEqual([
      'keys.rotate.start:success:system',
      'keys.rotate.finish:success:system',
    ]);
  });

  it('resumes an interrupted rotation without redoing finished objects, and reports the partial state', async () => {
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const { staged, totp } = allCollections();
    const failing = instrumented(blobStoreObjects(blobStore), 2);
    await expect(service([failing, staged, totp], { checkpointEvery: 1 }).rotate()).rejects.toThrow(
      /injected/,
    );
    expect(failing.calls).toHaveLength(2);

    const partial = await service([blobStoreObjects(blobStore), staged, totp]).status();
    expect(partial.rotation).toMatchObject({
      status: 'running',
      active: false,
      phase: 'blobs',
      objectsDone: 2,
      lastError: expect.stringMatching(
        /^blobs\/(media|analysis-artifacts)-[0-9a-f-]+: failed; see the server log$/,
      ),
    });
    expect(partial.readyToRetire).toBe(false);
    const byRole = Object.fromEntries(partial.wrapped.map((entry) => [entry.role, entry.total]));
    expect(byRole).toEqual({ current: 2, previous: 5 });
    await expect(service([blobStoreObjects(blobStore), staged, totp]).retire()).rejects.toMatchObject({
      code: 'keys-still-in-use',
    });

    const counting = instrumented(blobStoreObjects(blobStore));
    const countingStaged = instrumented(staged);
    const finished = await service([counting, countingStaged, totp]).rotate();
    // Only the two blobs not yet done, plus the staged upload's two objects: nothing re-done.
    expect(counting.calls).toHaveLength(2);
    expect(counting.calls.some((key) => failing.calls.includes(key))).toBe(false);
    expect(countingStaged.calls).toHaveLength(2);
    expect(finished).toMatchObject({ resumed: true, objectsDone: 7, alreadyCurrent: 2 });
    expect(await readsWith(onlyNew())).toEqual({ blobs: [true, true, true, true], staged: true, totp: true });
    expect(audit.map((event) => `${event.action}:${event.outcome}`)).toEqual([
      'keys.rotate.start:success',
      'keys.rotate.finish:failure',
      'keys.rotate.resume:success',
      'keys.rotate.finish:success',
    ]);

    // A third run finds everything current and rewraps nothing.
    const idle = instrumented(blobStoreObjects(blobStore));
    expect(await service([idle]).rotate()).toMatchObject({ objectsDone: 0, alreadyCurrent: 4 });
    expect(idle.calls).toHaveLength(0);
  });

  it('keeps uploads and reads working while it runs; objects written meanwhile are already under the new key', async () => {
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const written = `media-${randomUUID()}`;
    const bytes = randomBytes(500);
    const observed: boolean[] = [];
    const blobs = instrumented(blobStoreObjects(blobStore));
    blobs.onRewrap = async (n) => {
      if (n !== 2) return;
      // Mid-rotation: a new upload, reads of rotated and unrotated blobs, a staged upload's next segment.
      await blobStore.put(written, Readable.from([bytes]));
      contents.set(written, bytes);
      for (const [key, expected] of contents)
        observed.push((await collect(await blobStore.read(key))).equals(expected));
      observed.push((await tus.write(Readable.from([randomBytes(64)]), stagedId, 128)) === 192);
    };
    const { staged, totp } = allCollections();
    await service([blobs, staged, totp]).rotate();
    expect(observed).toEqual(Array(contents.size + 1).fill(true));
    expect(blobs.calls).not.toContain(written);
    expect(await blobStore.kekOf(written)).toEqual({ id: keyring.current.id, version: 1 });
    const reads = await readsWith(onlyNew());
    expect(reads.blobs).toEqual(Array(5).fill(true));
    expect(await storeWith(onlyOld()).kekOf(written)).toEqual({ id: keyring.current.id, version: 1 });
  });

  it('refuses a second rotation while one runs, and takes over the lease of a process that died', async () => {
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const rotations = createKeyRotationRepository({ db: store.db });
    const claim = (owner: string) =>
      rotations.claim({
        to: keyring.current,
        fromKekIds: [],
        owner,
        leaseUntil: new Date(Date.now() + 600_000),
        now: new Date(),
        ownerGone: () => false,
      });
    await claim(`${hostname()}:${process.pid}:other-run`);
    await expect(service([blobStoreObjects(blobStore)]).rotate()).rejects.toMatchObject({
      code: 'rotation-running',
    });
    // A crashed embedded server: its pid is gone, so its lease need not run out first.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    await store.db
      .updateTable('key_rotations')
      .set({ owner: `${hostname()}:${deadPid}:crashed` })
      .where('status', '=', 'running')
      .execute();
    expect(await service([blobStoreObjects(blobStore)]).rotate()).toMatchObject({
      resumed: true,
      objectsDone: 4,
    });
  });

  it('stops at a blob whose header does not authenticate, naming it', async () => {
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const [victim = ''] = [...contents.keys()];
    const path = join(dataDir, 'blobs', victim.slice(0, 2), `${victim}.sagb`);
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([0xff]), 0, 1, 200);
    await handle.close();
    await expect(service([blobStoreObjects(blobStore)]).rotate()).rejects.toThrow(/does not authenticate/);
    const status = await service([blobStoreObjects(blobStore)]).status();
    expect(status.rotation?.lastError).toContain(`blobs/${victim}: blob failed authentication`);
  });

  it('stops on an object wrapped by a key that is not configured, naming it', async () => {
    keyring.replace(onlyNew());
    await expect(service([blobStoreObjects(blobStore)]).rotate()).rejects.toMatchObject({
      code: 'unknown-master-key',
      detail: expect.stringContaining('MASTER_KEY_PREVIOUS'),
    });
  });

  it('retires the old key: recorded, dropped from the keyring, refused as MASTER_KEY and warned about as previous', async () => {
    keyring.replace(keyringFrom(newKey, [oldKey]));
    const { blobs, staged, totp } = allCollections();
    const oldKekId = keyringFrom(oldKey, []).current.id;
    await service([blobs, staged, totp]).rotate();
    const retired = await service([blobs, staged, totp]).retire();
    expect(retired.retired).toEqual([oldKekId]);
    expect(retired.instructions.join('\n')).toMatch(/MASTER_KEY_PREVIOUS.*restart/);
    expect(retired.instructions.join('\n')).toMatch(/backups.*need the old key/);
    expect(keyring.previous).toEqual([]);
    expect(audit.at(-1)).toMatchObject({ action: 'keys.retire', actor: { type: 'system' } });

    const rotations = createKeyRotationRepository({ db: store.db });
    await expect(checkRetiredKeys({ keyring: onlyOld(), rotations, log: testLogger() })).rejects.toThrow(
      /MASTER_KEY is the retired master key/,
    );
    const { log, lines } = capturingLogger();
    await checkRetiredKeys({ keyring: keyringFrom(newKey, [oldKey]), rotations, log });
    expect(lines.join('')).toMatch(
      /retired master key is still configured: remove it from MASTER_KEY_PREVIOUS/,
    );
    const status = await service([blobs]).status();
    expect(status.retired).toEqual([expect.objectContaining({ kekId: oldKekId })]);
  });
});
