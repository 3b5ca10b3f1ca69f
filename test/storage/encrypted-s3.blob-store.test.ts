import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EncryptedS3BlobStore } from '../../src/storage/encrypted-s3.blob-store.js';
import { TAG_BYTES } from '../../src/storage/segmented-aead.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3rver.js';
import { capturingLogger, collect, newKeyring } from './storage-fixtures.js';

const segmentBytes = 1024;
const sealed = segmentBytes + TAG_BYTES;
let localS3: LocalS3;
const requests: { command: string; key: string; range?: string }[] = [];

beforeAll(async () => {
  localS3 = await startLocalS3();
  localS3.objects.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string; Range?: string };
      requests.push({ command: context.commandName ?? '', key: input.Key ?? '', range: input.Range });
      return next(args);
    },
    { step: 'initialize' },
  );
});
afterAll(() => localS3?.close());

const store = () =>
  new EncryptedS3BlobStore({
    objects: localS3.objects,
    prefix: 'p/',
    keyring: newKeyring(),
    log: capturingLogger().log,
    segmentBytes,
    readWindowBytes: 4 * sealed,
  });

it('reads a range with ranged GETs of the segments it covers and the final segment only', async () => {
  const blobs = store();
  const plaintext = randomBytes(20 * segmentBytes + 100);
  await blobs.put('media-ranged1', Readable.from([plaintext]));
  requests.length = 0;
  const range = { start: 10 * segmentBytes + 3, end: 10 * segmentBytes + 9 };
  expect(await collect(await blobs.read('media-ranged1', range))).toEqual(
    plaintext.subarray(range.start, range.end + 1),
  );
  const ranges = requests
    .filter((request) => request.command === 'GetObjectCommand' && request.key.endsWith('.sagb'))
    .map((request) => request.range);
  expect(ranges).toEqual([
    `bytes=${20 * sealed}-${20 * sealed + 100 + TAG_BYTES - 1}`,
    `bytes=${10 * sealed}-${11 * sealed - 1}`,
  ]);
});

it('deletes the key object before the payload, and aborts the multipart upload of a failed put', async () => {
  const blobs = store();
  await blobs.put('media-ordered', Readable.from([randomBytes(100)]));
  requests.length = 0;
  await blobs.delete('media-ordered');
  expect(requests.map((request) => request.key)).toEqual([
    'p/blobs/media-ordered.key',
    'p/blobs/media-ordered.sagb',
  ]);
  requests.length = 0;
  const failing = Readable.from(
    (async function* () {
      for (let part = 0; part < 7; part += 1) yield randomBytes(1024 * 1024);
      throw new Error('client went away');
    })(),
  );
  await expect(blobs.put('media-aborted', failing)).rejects.toThrow('client went away');
  const commands = requests.map((request) => request.command);
  expect(commands).toContain('UploadPartCommand');
  expect(commands.at(-1)).toBe('AbortMultipartUploadCommand');
  expect(commands).not.toContain('CompleteMultipartUploadCommand');
});
