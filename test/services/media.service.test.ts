import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely, Transaction } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Analysis, Database, Media, NewMedia } from '../../src/db/schema.js';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import type { AnalysisRepository } from '../../src/repositories/analysis.repository.js';
import type { MediaRepository } from '../../src/repositories/media.repository.js';
import { AppError } from '../../src/services/errors.js';
import { createMediaService, type MediaServiceDeps } from '../../src/services/media.service.js';
import { MediaIntakeRefusal, type MediaIntakeCheck } from '../../src/pipeline/media-intake.js';
import type { BlobGateway, BlobGatewayHandle } from '../../src/storage/blob-gateway.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { testLogger } from '../helpers/databases.js';
import { CallLog } from './strict-fake.js';
import { wholeMediaIntegrity as wholeMedia } from '../helpers/media-integrity.js';

const orgId = randomUUID();
const limitBytes = 64 * 1024;

let log = new CallLog();

afterEach(() => {
  const { unexpected } = log;
  log = new CallLog();
  expect(unexpected, 'calls the test did not expect').toEqual([]);
});

/** The first bytes of an ISO BMFF file (an `ftyp` box), then filler: sniffs as video/mp4. */
function mp4Bytes(size = 20_000): Buffer {
  const ftyp = Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from('ftypisom', 'latin1'),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from('isomiso2', 'latin1'),
  ]);
  return Buffer.concat([ftyp, randomBytes(size - ftyp.length)]);
}

const videoProbe: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  formatLongName: 'QuickTime / MOV',
  durationSeconds: 4,
  sizeBytes: 20_000,
  bitRate: 40_000,
  tags: {},
  streams: [
    {
      index: 0,
      type: 'video',
      codecName: 'h264',
      codecLongName: null,
      profile: null,
      width: 320,
      height: 240,
      pixelFormat: 'yuv420p',
      frameRate: 25,
      durationSeconds: 4,
      frameCount: 100,
      bitRate: null,
      sampleRate: null,
      channels: null,
      tags: {},
    },
  ],
};

/** Sends `chunks` as they would arrive from a client, in pieces. */
function source(...chunks: Buffer[]): Readable {
  return Readable.from(chunks);
}

/** An in-memory blob store that consumes the stream like the real one: a failing stream keeps nothing. */
function memoryBlobStore() {
  const objects = new Map<string, Buffer>();
  const aborted: string[] = [];
  const fake = log.fake<BlobStore>('blobStore', {
    async put(key, stream) {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk as Buffer);
      } catch (error) {
        aborted.push(key);
        throw error;
      }
      const bytes = Buffer.concat(chunks);
      objects.set(key, bytes);
      return { sizeBytes: bytes.length };
    },
    async delete(key) {
      objects.delete(key);
    },
  });
  return { fake, objects, aborted };
}

function gateway() {
  const handles: { url: string; token: string; closed: boolean }[] = [];
  const fake = log.fake<BlobGateway>('blobGateway', {
    async open() {
      const token = randomBytes(32).toString('hex');
      const handle = { url: `http://127.0.0.1:41999/${token}`, token, closed: false };
      handles.push(handle);
      return log.fake<BlobGatewayHandle>('handle', {
        url: handle.url,
        close: async () => {
          handle.closed = true;
        },
      });
    },
  });
  return { fake, handles };
}

/** The intake check as a strict fake: passes the probe it is given, or refuses. */
function intakeGiving(outcome: () => Promise<MediaProbe>): MediaIntakeCheck {
  return log.fake<MediaIntakeCheck>('intake', {
    check: async () => ({ probe: await outcome(), integrity: wholeMedia, notes: [] }),
  });
}

/** A database whose only use is one transaction; its executor is a strict fake, so only the repositories touch it. */
function transactionalDb() {
  const trx = log.fake<Transaction<Database>>('trx', {});
  const db = log.fake<Kysely<Database>>('db', {
    transaction: (() => ({
      async execute<T>(work: (transaction: Transaction<Database>) => Promise<T>): Promise<T> {
        log.calls.push({ name: 'tx.begin', args: [] });
        try {
          const result = await work(trx);
          log.calls.push({ name: 'tx.commit', args: [] });
          return result;
        } catch (error) {
          log.calls.push({ name: 'tx.rollback', args: [] });
          throw error;
        }
      },
    })) as unknown as Kysely<Database>['transaction'],
  });
  return { db, trx };
}

function repositories() {
  const media = log.fake<MediaRepository>('media', {
    insert: async (_executor, row: NewMedia) =>
      ({ ...row, probe: JSON.parse(row.probe) as unknown, created_at: new Date() }) as Media,
  });
  const analyses = log.fake<AnalysisRepository>('analyses', {
    createOrGet: async (_executor, key) =>
      ({
        id: randomUUID(),
        org_id: key.orgId,
        media_id: key.mediaId,
        pipeline_version: key.pipelineVersion,
        status: 'queued',
      }) as Analysis,
  });
  return { media, analyses };
}

function service(deps: Partial<MediaServiceDeps>) {
  return createMediaService({
    db: log.fake<Kysely<Database>>('db', {}),
    blobStore: log.fake<BlobStore>('blobStore', {}),
    blobGateway: log.fake<BlobGateway>('blobGateway', {}),
    mediaTools: log.fake<MediaTools>('mediaTools', {}),
    intake: log.fake<MediaIntakeCheck>('intake', {}),
    media: log.fake<MediaRepository>('media', {}),
    analyses: log.fake<AnalysisRepository>('analyses', {}),
    queue: log.fake<JobQueue>('queue', { kind: 'embedded', reachable: () => true }),
    pipelineVersion: 'test-pipeline',
    maxUploadBytes: limitBytes,
    log: testLogger(),
    ...deps,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('MediaService.upload refusals', () => {
  it('refuses a stream over the limit with 413 while it streams: the blob put is aborted and nothing is kept', async () => {
    const store = memoryBlobStore();
    const chunk = Buffer.alloc(limitBytes / 2, 1);
    const error = await rejection(
      service({ blobStore: store.fake }).upload({
        orgId,
        source: source(mp4Bytes(chunk.length), chunk, chunk, chunk),
        filename: 'big.mp4',
      }),
    );

    expect(error).toMatchObject({ status: 413, code: 'upload-too-large' });
    expect(error.extra).toEqual({ limitBytes });
    expect(store.aborted).toHaveLength(1);
    expect(store.objects.size).toBe(0);
    expect(log.names()).toEqual(['queue.reachable', 'blobStore.put']);
  });

  it('takes a stream of exactly the limit', async () => {
    const store = memoryBlobStore();
    const { db } = transactionalDb();
    const registered = await service({
      db,
      blobStore: store.fake,
      blobGateway: gateway().fake,
      intake: intakeGiving(async () => videoProbe),
      ...repositories(),
      queue: log.fake<JobQueue>('queue', {
        kind: 'embedded',
        reachable: () => true,
        enqueue: async () => {},
      }),
    }).upload({ orgId, source: source(mp4Bytes(limitBytes)), filename: null });
    expect(registered.sizeBytes).toBe(limitBytes);
  });

  it('refuses zero bytes with 422 empty-file and deletes the blob', async () => {
    const store = memoryBlobStore();
    const error = await rejection(
      service({ blobStore: store.fake }).upload({ orgId, source: source(), filename: 'empty.mp4' }),
    );

    expect(error).toMatchObject({ status: 422, code: 'empty-file' });
    const [put] = log.callsTo('blobStore.put');
    expect(log.callsTo('blobStore.delete').map((call) => call.args[0])).toEqual([put?.args[0]]);
    expect(store.objects.size).toBe(0);
  });

  it('refuses HTML with 415 naming HTML in the detail and deletes the blob', async () => {
    const store = memoryBlobStore();
    const page = Buffer.from(
      '<!DOCTYPE html><html><head><script>alert(1)</script></head><body>x</body></html>',
    );
    const error = await rejection(
      service({ blobStore: store.fake }).upload({ orgId, source: source(page), filename: 'clip.mp4' }),
    );

    expect(error).toMatchObject({ status: 415, code: 'unsupported-media-type' });
    expect(error.detail).toContain('HTML');
    expect(log.names()).toEqual(['queue.reachable', 'blobStore.put', 'blobStore.delete']);
    expect(store.objects.size).toBe(0);
  });

  it.each([
    ['media-truncated', 'the moov box at byte 32 declares 2039 bytes but the file ends at byte 1000'],
    ['media-undecodable', 'no frame decodes: 3 keyframes tried within 30 s, none decoded'],
    ['media-dimensions-too-large', 'the video frame is 65536×65528'],
    ['media-unreadable', 'ffprobe could not read the file: Invalid data found when processing input'],
  ] as const)(
    'refuses media the intake check refuses with 422 %s, closes the gateway handle and deletes the blob',
    async (code, reason) => {
      const store = memoryBlobStore();
      const blobs = gateway();
      const error = await rejection(
        service({
          blobStore: store.fake,
          blobGateway: blobs.fake,
          intake: intakeGiving(async () => {
            throw new MediaIntakeRefusal(code, reason);
          }),
        }).upload({ orgId, source: source(mp4Bytes()), filename: 'clip.mp4' }),
      );
      expect(error).toMatchObject({ status: 422, code, detail: reason });
      expect(blobs.handles[0]?.closed).toBe(true);
      expect(log.callsTo('blobStore.delete')).toHaveLength(1);
      expect(store.objects.size).toBe(0);
    },
  );

  it('answers 400 upload-interrupted when the client stream fails, keeping nothing', async () => {
    const store = memoryBlobStore();
    const broken = new Readable({ read() {} });
    broken.push(mp4Bytes(1000));
    setImmediate(() => broken.destroy(new Error('socket hang up')));
    const error = await rejection(
      service({ blobStore: store.fake }).upload({ orgId, source: broken, filename: 'clip.mp4' }),
    );
    expect(error).toMatchObject({ status: 400, code: 'upload-interrupted' });
    expect(error.detail).not.toContain('socket hang up');
    expect(store.objects.size).toBe(0);
  });

  it('answers 507 insufficient-storage, not upload-interrupted, when the store runs out of space', async () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const store = log.fake<BlobStore>('blobStore', {
      async put(_key, stream) {
        for await (const _chunk of stream) throw full;
        return { sizeBytes: 0 };
      },
    });
    const error = await rejection(
      service({ blobStore: store }).upload({ orgId, source: source(mp4Bytes(1000)), filename: 'clip.mp4' }),
    );
    expect(error).toMatchObject({ status: 507, code: 'insufficient-storage' });
    expect(log.names()).toEqual(['queue.reachable', 'blobStore.put']);
  });
});

describe('MediaService.upload success', () => {
  it('embedded queue: stores, probes, then inserts media and analysis and enqueues the job in one transaction', async () => {
    const store = memoryBlobStore();
    const blobs = gateway();
    const { db, trx } = transactionalDb();
    const repos = repositories();
    const queue = log.fake<JobQueue>('queue', {
      kind: 'embedded',
      reachable: () => true,
      enqueue: async () => {},
    });
    const bytes = mp4Bytes();

    const registered = await service({
      db,
      blobStore: store.fake,
      blobGateway: blobs.fake,
      intake: intakeGiving(async () => videoProbe),
      ...repos,
      queue,
    }).upload({ orgId, source: source(bytes.subarray(0, 7), bytes.subarray(7)), filename: 'clip.mp4' });

    expect(log.names()).toEqual([
      'queue.reachable',
      'blobStore.put',
      'blobGateway.open',
      'intake.check',
      'handle.close',
      'queue.reachable',
      'db.transaction',
      'tx.begin',
      'media.insert',
      'analyses.createOrGet',
      'queue.enqueue',
      'tx.commit',
    ]);
    const [insert] = log.callsTo('media.insert');
    const [createOrGet] = log.callsTo('analyses.createOrGet');
    const [enqueue] = log.callsTo('queue.enqueue');
    expect(insert?.args[0]).toBe(trx);
    expect(createOrGet?.args[0]).toBe(trx);
    expect(enqueue?.args).toEqual([
      'analysis.run',
      { analysisId: registered.analysisId, orgId },
      { jobId: registered.analysisId, transaction: trx },
    ]);
    expect(createOrGet?.args[1]).toEqual({ orgId, mediaId: registered.id, pipelineVersion: 'test-pipeline' });

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(registered).toMatchObject({
      sha256,
      sizeBytes: bytes.length,
      mimeType: 'video/mp4',
      originalFilename: 'clip.mp4',
      analysisStatus: 'queued',
    });
    const row = insert?.args[1] as NewMedia;
    expect(row).toMatchObject({ id: registered.id, org_id: orgId, sha256, status: 'stored' });
    expect(JSON.parse(row.probe)).toEqual(videoProbe);
    expect(store.objects.get(row.blob_key)).toEqual(bytes);
    expect(blobs.handles.every((handle) => handle.closed)).toBe(true);
  });

  it('embedded queue: a failing transaction deletes the blob and surfaces the error', async () => {
    const store = memoryBlobStore();
    const { db } = transactionalDb();
    const boom = new Error('insert failed');
    const error = await service({
      db,
      blobStore: store.fake,
      blobGateway: gateway().fake,
      intake: intakeGiving(async () => videoProbe),
      media: log.fake<MediaRepository>('media', {
        insert: async () => {
          throw boom;
        },
      }),
    })
      .upload({ orgId, source: source(mp4Bytes()), filename: null })
      .catch((caught: unknown) => caught);

    expect(error).toBe(boom);
    expect(log.names()).toContain('tx.rollback');
    expect(log.names().at(-1)).toBe('blobStore.delete');
    expect(store.objects.size).toBe(0);
  });

  it('bullmq queue: enqueues after the commit, outside the transaction', async () => {
    const store = memoryBlobStore();
    const { db } = transactionalDb();
    const queue = log.fake<JobQueue>('queue', {
      kind: 'bullmq',
      reachable: () => true,
      enqueue: async () => {},
    });

    const registered = await service({
      db,
      blobStore: store.fake,
      blobGateway: gateway().fake,
      intake: intakeGiving(async () => videoProbe),
      ...repositories(),
      queue,
    }).upload({ orgId, source: source(mp4Bytes()), filename: 'clip.mp4' });

    const names = log.names();
    expect(names.slice(names.indexOf('tx.begin'))).toEqual([
      'tx.begin',
      'media.insert',
      'analyses.createOrGet',
      'tx.commit',
      'queue.enqueue',
    ]);
    expect(log.callsTo('queue.enqueue')[0]?.args).toEqual([
      'analysis.run',
      { analysisId: registered.analysisId, orgId },
      { jobId: registered.analysisId },
    ]);
  });

  it('bullmq queue: an enqueue failure after the commit does not fail the upload (the reconciler retries)', async () => {
    const store = memoryBlobStore();
    const { db } = transactionalDb();
    const queue = log.fake<JobQueue>('queue', {
      kind: 'bullmq',
      reachable: () => true,
      enqueue: async () => {
        throw new Error('Redis connection lost');
      },
    });

    const registered = await service({
      db,
      blobStore: store.fake,
      blobGateway: gateway().fake,
      intake: intakeGiving(async () => videoProbe),
      ...repositories(),
      queue,
    }).upload({ orgId, source: source(mp4Bytes()), filename: 'clip.mp4' });

    expect(registered.analysisStatus).toBe('queued');
    expect(log.callsTo('queue.enqueue')).toHaveLength(1);
    expect(log.names()).not.toContain('blobStore.delete');
    expect(store.objects.size).toBe(1);
  });

  it('bullmq queue known unreachable (Redis down): the upload gets 503 service-unavailable before anything is stored', async () => {
    const store = memoryBlobStore();
    const queue = log.fake<JobQueue>('queue', { kind: 'bullmq', reachable: () => false });

    const error = await rejection(
      service({ blobStore: store.fake, queue }).upload({
        orgId,
        source: source(mp4Bytes()),
        filename: 'clip.mp4',
      }),
    );

    expect(error).toMatchObject({
      status: 503,
      code: 'service-unavailable',
      extra: { retryAfterSeconds: 5 },
    });
    expect(log.names()).toEqual(['queue.reachable']);
    expect(store.objects.size).toBe(0);
  });

  it('bullmq queue unreachable once bytes are stored: 503, no rows written, the blob deleted', async () => {
    const store = memoryBlobStore();
    const { db } = transactionalDb();
    const queue = log.fake<JobQueue>('queue', { kind: 'bullmq', reachable: () => false });
    const bytes = mp4Bytes();
    await store.fake.put('media-adopted2', source(bytes));

    const error = await rejection(
      service({
        db,
        blobStore: store.fake,
        blobGateway: gateway().fake,
        intake: intakeGiving(async () => videoProbe),
        ...repositories(),
        queue,
      }).adoptStored({
        orgId,
        mediaId: randomUUID(),
        blobKey: 'media-adopted2',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sizeBytes: bytes.length,
        head: bytes.subarray(0, 4096),
        filename: 'clip.mp4',
      }),
    );

    expect(error).toMatchObject({ status: 503, code: 'service-unavailable' });
    expect(log.names()).not.toContain('tx.begin');
    expect(log.names().at(-1)).toBe('blobStore.delete');
    expect(store.objects.size).toBe(0);
  });
});

describe('MediaService filenames', () => {
  async function storedName(via: 'upload' | 'adoptStored', filename: string | null) {
    const bytes = mp4Bytes();
    const media = service({
      db: transactionalDb().db,
      blobStore: memoryBlobStore().fake,
      blobGateway: gateway().fake,
      mediaTools: log.fake<MediaTools>('mediaTools', {}),
      intake: intakeGiving(async () => videoProbe),
      ...repositories(),
      queue: log.fake<JobQueue>('queue', {
        kind: 'embedded',
        reachable: () => true,
        enqueue: async () => {},
      }),
    });
    const registered =
      via === 'upload'
        ? await media.upload({ orgId, source: source(bytes), filename })
        : await media.adoptStored({
            orgId,
            mediaId: randomUUID(),
            blobKey: 'media-adopted1',
            sha256: createHash('sha256').update(bytes).digest('hex'),
            sizeBytes: bytes.length,
            head: bytes.subarray(0, 4096),
            filename,
          });
    const [insert] = log.callsTo('media.insert');
    const inserted = (insert?.args[1] as NewMedia).original_filename;
    expect(registered.originalFilename).toBe(inserted);
    return inserted;
  }

  it.each(['upload', 'adoptStored'] as const)(
    '%s stores the name cleaned, whatever the client sent',
    async (via) => {
      expect(await storedName(via, 'clip\u202E4pm.exe')).toBe('clip4pm.exe');
    },
  );

  it.each(['upload', 'adoptStored'] as const)('%s stores no name when nothing is left of it', async (via) => {
    expect(await storedName(via, '\u200B/\\\u0000')).toBeNull();
  });

  it('cuts a long name to 255 UTF-8 bytes, keeping the extension', async () => {
    const stored = (await storedName('upload', `${'ж'.repeat(300)}.mov`)) ?? '';
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(255);
    expect(stored).toBe(`${'ж'.repeat(125)}.mov`);
  });
});
