import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheInvalidation } from '../../src/cache/read-cache.js';
import type { Analysis, Media } from '../../src/db/schema.js';
import type { AnalysisProgressEvent, EventBus } from '../../src/events/event-bus.js';
import type { AnalysisPipeline, AnalysisRunRequest } from '../../src/pipeline/analysis-pipeline.js';
import type { AnalysisReport } from '../../src/pipeline/report.js';
import {
  JobLockLostError,
  JobTimeoutError,
  PermanentJobError,
  WorkerStoppingError,
} from '../../src/queue/job-errors.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { jobDefinitions, type JobContext } from '../../src/queue/job-table.js';
import type { AnalysisRepository } from '../../src/repositories/analysis.repository.js';
import type { MediaRepository } from '../../src/repositories/media.repository.js';
import { createAnalysisService, type AnalysisServiceDeps } from '../../src/services/analysis.service.js';
import type { AuditEvent, AuditLog } from '../../src/services/audit-log.js';
import type { BlobGateway, BlobGatewayHandle } from '../../src/storage/blob-gateway.js';
import { BlobIntegrityError } from '../../src/storage/segmented-aead.js';
import { testLogger } from '../helpers/databases.js';
import { CallLog } from './strict-fake.js';

const orgId = randomUUID();
const otherOrgId = randomUUID();
const clock = new Date('2025-03-01T12:00:00.000Z');
const maxAttempts = jobDefinitions['analysis.run'].attempts;

let log = new CallLog();

afterEach(() => {
  const { unexpected } = log;
  log = new CallLog();
  expect(unexpected, 'calls the test did not expect').toEqual([]);
});

function analysisRow(overrides: Partial<Analysis> = {}): Analysis {
  return {
    id: randomUUID(),
    org_id: orgId,
    media_id: randomUUID(),
    pipeline_version: 'test-pipeline',
    status: 'queued',
    progress: 0,
    stage: null,
    band: null,
    report: null,
    error_code: null,
    error_detail: null,
    attempts: 0,
    run: 1,
    created_at: new Date(clock.getTime() - 600_000),
    started_at: null,
    finished_at: null,
    updated_at: new Date(clock.getTime() - 600_000),
    ...overrides,
  };
}

function mediaRow(analysis: Analysis, overrides: Partial<Media> = {}): Media {
  return {
    id: analysis.media_id,
    org_id: analysis.org_id,
    sha256: 'ab'.repeat(32),
    size_bytes: 1234,
    mime_type: 'video/mp4',
    original_filename: 'clip.mp4',
    blob_key: `media-${analysis.media_id}`,
    status: 'stored',
    deleted_at: null,
    uploader_type: null,
    uploader_id: null,
    legal_hold_reason: null,
    legal_hold_at: null,
    legal_hold_by: null,
    probe: { formatName: 'mp4', streams: [] },
    created_at: clock,
    ...overrides,
  };
}

/** An in-memory analyses table with the state rules of the real repository (done and failed are final). */
function analysesTable(rows: Analysis[]) {
  const byId = new Map(rows.map((row) => [row.id, { ...row }]));
  const touch = (row: Analysis) => (row.updated_at = clock);
  const repository = log.fake<AnalysisRepository>('analyses', {
    async findByIdUnscoped(id) {
      const row = byId.get(id);
      return row ? { ...row } : null;
    },
    async markRunning(id) {
      const row = byId.get(id);
      if (!row || (row.status !== 'queued' && row.status !== 'running')) return null;
      Object.assign(row, { status: 'running', attempts: row.attempts + 1, started_at: clock });
      touch(row);
      return { ...row };
    },
    async releaseAttempt(id) {
      const row = byId.get(id);
      if (row?.status === 'running' && row.attempts > 0) row.attempts -= 1;
    },
    async updateProgress(id, stage, progress) {
      const row = byId.get(id);
      if (row?.status === 'running') Object.assign(row, { stage, progress });
    },
    async complete(id, result) {
      const row = byId.get(id);
      if (!row || row.status === 'done') return false;
      Object.assign(row, { status: 'done', band: result.band, report: result.report, progress: 1 });
      touch(row);
      return true;
    },
    async fail(id, error) {
      const row = byId.get(id);
      if (!row || (row.status !== 'queued' && row.status !== 'running')) return false;
      Object.assign(row, { status: 'failed', error_code: error.code, error_detail: error.detail });
      touch(row);
      return true;
    },
    async requeue(id) {
      const row = byId.get(id);
      if (!row || row.status === 'done') return false;
      Object.assign(row, { status: 'queued', progress: 0, stage: null });
      touch(row);
      return true;
    },
    async findStale({ olderThan, limit }) {
      return [...byId.values()]
        .filter((row) => (row.status === 'queued' || row.status === 'running') && row.updated_at < olderThan)
        .sort((a, b) => a.updated_at.getTime() - b.updated_at.getTime())
        .slice(0, limit)
        .map((row) => ({ ...row }));
    },
  });
  return { repository, row: (id: string) => byId.get(id) };
}

const doneReport = { band: 'no_indicators', reasons: ['no indicators'] } as unknown as AnalysisReport;

function pipelineReturning(
  result: (request: AnalysisRunRequest) => Promise<AnalysisReport>,
): AnalysisPipeline {
  return log.fake<AnalysisPipeline>('pipeline', { version: 'test-pipeline', run: result });
}

async function stagedRun(request: AnalysisRunRequest): Promise<AnalysisReport> {
  await request.onProgress?.('probe', 0, 'started');
  await request.onProgress?.('detector:gop-double-compression', 0.5, 'started');
  await request.onProgress?.('report', 1, 'started');
  return doneReport;
}

/** Gateway handles whose URL carries a secret token, like the real loopback gateway's. */
function gateway() {
  const handles: { url: string; closed: boolean; integrity: AbortController }[] = [];
  const fake = log.fake<BlobGateway>('blobGateway', {
    async open() {
      const handle = {
        url: `http://127.0.0.1:41999/${randomBytes(32).toString('hex')}`,
        closed: false,
        integrity: new AbortController(),
      };
      handles.push(handle);
      return log.fake<BlobGatewayHandle>('handle', {
        url: handle.url,
        integritySignal: handle.integrity.signal,
        integrityFailure: () =>
          handle.integrity.signal.aborted ? (handle.integrity.signal.reason as BlobIntegrityError) : null,
        close: async () => {
          handle.closed = true;
        },
      });
    },
  });
  return { fake, handles };
}

/** Artifact blobs by analysis id, as the service stores and discards them. */
function artifactStore() {
  const stored = new Map<string, { report: AnalysisReport; data: Map<string, Buffer> }>();
  const fake = log.fake<AnalysisServiceDeps['artifacts']>('artifacts', {
    async save(analysisId, report, delivered) {
      stored.set(analysisId, { report, data: new Map(delivered) });
    },
    async discard(analysisId) {
      stored.delete(analysisId);
    },
  });
  return { fake, stored };
}

function auditLog() {
  const appended: AuditEvent[] = [];
  const fake = log.fake<AuditLog>('audit', {
    async append(event) {
      appended.push(event);
    },
  });
  return { fake, appended };
}

function eventBus() {
  const published: AnalysisProgressEvent[] = [];
  const fake = log.fake<EventBus>('events', {
    async publish(event) {
      published.push(event);
    },
  });
  return { fake, published, types: () => published.map((event) => event.type) };
}

function mediaLookup(found: Media | null): MediaRepository {
  return log.fake<MediaRepository>('media', { findById: async () => found });
}

function service(deps: Partial<AnalysisServiceDeps>) {
  return createAnalysisService({
    analyses: log.fake<AnalysisRepository>('analyses', {}),
    media: log.fake<MediaRepository>('media', {}),
    blobGateway: log.fake<BlobGateway>('blobGateway', {}),
    pipeline: log.fake<AnalysisPipeline>('pipeline', {}),
    artifacts: artifactStore().fake,
    queue: log.fake<JobQueue>('queue', {}),
    events: log.fake<EventBus>('events', {}),
    audit: log.fake<AuditLog>('audit', {}),
    now: () => clock,
    log: testLogger(),
    ...deps,
  });
}

function jobContext(attempt: number, signal = new AbortController().signal): JobContext {
  return {
    jobId: randomUUID(),
    attempt,
    signal,
    reportProgress: async () => {},
  };
}

describe('AnalysisService.run', () => {
  it('completes once: a second run of a done analysis writes nothing and publishes nothing', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(stagedRun),
      events: events.fake,
    }).run;
    const payload = { analysisId: analysis.id, orgId };

    await run(payload, jobContext(1));
    expect(table.row(analysis.id)).toMatchObject({
      status: 'done',
      band: 'no_indicators',
      report: doneReport,
    });
    expect(events.types().filter((type) => type === 'analysis.done')).toHaveLength(1);
    expect(events.published.at(-1)).toMatchObject({ type: 'analysis.done', analysisId: analysis.id, orgId });

    log.clear();
    events.published.length = 0;
    await run(payload, jobContext(1));
    expect(log.names()).toEqual(['analyses.findByIdUnscoped', 'analyses.markRunning']);
    expect(events.published).toEqual([]);
  });

  it('publishes every stage start and finish and the preliminary band (marked, never stored), writing progress in steps', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async (request) => {
        await request.onProgress?.('probe', 0, 'started');
        await request.onProgress?.('probe', 0.25, 'finished');
        await request.onProgress?.('detector:a', 0.25, 'started');
        await request.onProgress?.('detector:b', 0.25, 'started');
        await request.onProgress?.('detector:a', 0.5, 'finished');
        await request.onPreliminary?.({
          preliminary: true,
          band: 'inconclusive',
          reasons: ['early'],
          detectors: ['a'],
          pending: ['b'],
        });
        // Seen by the row as it stands mid-run: the preliminary band is not written there.
        expect(table.row(analysis.id)).toMatchObject({ status: 'running', band: null, report: null });
        await request.onProgress?.('detector:b', 0.75, 'finished');
        await request.onProgress?.('report', 1, 'started');
        return doneReport;
      }),
      events: events.fake,
    }).run;

    await run({ analysisId: analysis.id, orgId }, jobContext(1));

    expect(events.published.map((event) => [event.type, event.stage, event.phase ?? null])).toEqual([
      ['analysis.progress', 'start', null],
      ['analysis.progress', 'probe', 'started'],
      ['analysis.progress', 'probe', 'finished'],
      ['analysis.progress', 'detector:a', 'started'],
      ['analysis.progress', 'detector:b', 'started'],
      ['analysis.progress', 'detector:a', 'finished'],
      ['analysis.preliminary', 'preliminary', null],
      ['analysis.progress', 'detector:b', 'finished'],
      ['analysis.progress', 'report', 'started'],
      ['analysis.done', 'report', null],
    ]);
    expect(events.published.find((event) => event.type === 'analysis.preliminary')).toMatchObject({
      status: 'running',
      preliminary: true,
      band: 'inconclusive',
      detectors: ['a'],
      pending: ['b'],
    });
    expect(events.published.at(-1)).toMatchObject({ band: 'no_indicators' });
    expect(events.published.at(-1)).not.toHaveProperty('preliminary');
    expect(table.row(analysis.id)).toMatchObject({ status: 'done', band: 'no_indicators' });
    // A share no further on than the last one written is not written again.
    expect(log.callsTo('analyses.updateProgress').map((call) => call.args.slice(1))).toEqual([
      ['probe', 0.25],
      ['detector:a', 0.5],
      ['detector:b', 0.75],
      ['report', 1],
    ]);
  });

  it('publishes analysis.done once when two deliveries of one job overlap (only one complete() wins)', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async (request) => {
        started += 1;
        if (started === 2) release();
        await gate;
        return stagedRun(request);
      }),
      events: events.fake,
    }).run;
    const payload = { analysisId: analysis.id, orgId };

    await Promise.all([run(payload, jobContext(1)), run(payload, jobContext(1))]);

    const completions = log.callsTo('analyses.complete');
    expect(completions).toHaveLength(2);
    expect(events.types().filter((type) => type === 'analysis.done')).toEqual(['analysis.done']);
    expect(table.row(analysis.id)?.status).toBe('done');
  });

  it('publishes no done event when complete() reports that it wrote nothing', async () => {
    const analysis = analysisRow();
    const events = eventBus();
    const run = service({
      analyses: log.fake<AnalysisRepository>('analyses', {
        findByIdUnscoped: async () => analysis,
        markRunning: async () => ({ ...analysis, status: 'running', attempts: 1 }),
        updateProgress: async () => {},
        complete: async () => false,
      }),
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(stagedRun),
      events: events.fake,
    }).run;

    await run({ analysisId: analysis.id, orgId }, jobContext(1));

    expect(log.callsTo('analyses.complete')).toHaveLength(1);
    expect(events.types()).not.toContain('analysis.done');
  });

  it('rethrows a pipeline error on every attempt (so the queue retries) and fails the analysis only on the last', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    const blobs = gateway();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: blobs.fake,
      pipeline: pipelineReturning(async (request) => {
        await request.onProgress?.('probe', 0, 'started');
        throw new Error(`ffmpeg exited with code 1: ${request.input}: Invalid data found\nsecond line`);
      }),
      events: events.fake,
    }).run;
    const payload = { analysisId: analysis.id, orgId };

    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const failure = await run(payload, jobContext(attempt)).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure, `attempt ${attempt} must rethrow`).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/^ffmpeg exited with code 1/);
      if (attempt < maxAttempts) {
        expect(table.row(analysis.id)?.status, `after attempt ${attempt}`).toBe('running');
        expect(log.callsTo('analyses.fail')).toEqual([]);
        expect(events.types()).not.toContain('analysis.failed');
      }
    }

    expect(log.callsTo('pipeline.run')).toHaveLength(maxAttempts);
    expect(log.callsTo('analyses.fail')).toHaveLength(1);
    const failed = table.row(analysis.id);
    expect(failed).toMatchObject({ status: 'failed', error_code: 'analysis-failed', attempts: maxAttempts });
    expect(failed?.error_detail).toMatch(/^ffmpeg exited with code 1: input/);
    for (const handle of blobs.handles) {
      expect(failed?.error_detail).not.toContain(handle.url.split('/').at(-1));
      expect(handle.closed).toBe(true);
    }
    expect(events.types().filter((type) => type === 'analysis.failed')).toEqual(['analysis.failed']);
    expect(events.published.at(-1)).toMatchObject({ type: 'analysis.failed', status: 'failed' });
  });

  it('fails the analysis on the last attempt when the stored media cannot be opened', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: log.fake<BlobGateway>('blobGateway', {
        open: async () => {
          throw new Error('blob not found');
        },
      }),
      events: eventBus().fake,
    }).run;
    const payload = { analysisId: analysis.id, orgId };

    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      await expect(run(payload, jobContext(attempt))).rejects.toThrow('blob not found');
    }
    expect(table.row(analysis.id)).toMatchObject({ status: 'failed', error_code: 'analysis-failed' });
  });

  it('never fails the analysis when shutdown hands the job back, even on the last attempt, and gives the attempt back', async () => {
    const analysis = analysisRow({ status: 'running', attempts: maxAttempts - 1 });
    const table = analysesTable([analysis]);
    const controller = new AbortController();
    const stopping = new WorkerStoppingError();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async () => {
        controller.abort(stopping);
        throw stopping;
      }),
      events: eventBus().fake,
    }).run;

    await expect(
      run({ analysisId: analysis.id, orgId }, jobContext(maxAttempts, controller.signal)),
    ).rejects.toBe(stopping);
    expect(log.callsTo('analyses.fail')).toEqual([]);
    expect(table.row(analysis.id)).toMatchObject({ status: 'running', attempts: maxAttempts - 1 });
  });

  it('leaves the analysis to the worker that took the job over when this one lost its lock', async () => {
    const analysis = analysisRow({ status: 'running', attempts: maxAttempts - 1 });
    const table = analysesTable([analysis]);
    const controller = new AbortController();
    const lost = new JobLockLostError();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async () => {
        controller.abort(lost);
        throw lost;
      }),
      events: eventBus().fake,
    }).run;

    await expect(
      run({ analysisId: analysis.id, orgId }, jobContext(maxAttempts, controller.signal)),
    ).rejects.toBe(lost);
    expect(log.callsTo('analyses.fail')).toEqual([]);
    expect(table.row(analysis.id)).toMatchObject({ status: 'running', attempts: maxAttempts });
  });

  it('stores the artifacts the pipeline handed over, before the report', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const store = artifactStore();
    const crop = Buffer.from([1, 2, 3]);
    await service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      artifacts: store.fake,
      pipeline: pipelineReturning(async (request) => {
        await request.onArtifact?.('face-noise/crop.pgm', {
          name: 'crop.pgm',
          contentType: 'image/x-portable-graymap',
          description: 'crop',
          data: crop,
        });
        return doneReport;
      }),
      events: eventBus().fake,
    }).run({ analysisId: analysis.id, orgId }, jobContext(1));

    expect(store.stored.get(analysis.id)).toEqual({
      report: doneReport,
      data: new Map([['face-noise/crop.pgm', crop]]),
    });
    const names = log.names();
    expect(names.indexOf('artifacts.save')).toBeGreaterThan(-1);
    expect(names.indexOf('artifacts.save')).toBeLessThan(names.indexOf('analyses.complete'));
  });

  it('stores nothing when the lock lapsed after the pipeline finished (another worker owns the analysis)', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const controller = new AbortController();
    const lost = new JobLockLostError();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async () => {
        controller.abort(lost);
        return doneReport;
      }),
      events: eventBus().fake,
    }).run;

    await expect(run({ analysisId: analysis.id, orgId }, jobContext(1, controller.signal))).rejects.toBe(
      lost,
    );
    expect(log.callsTo('artifacts.save')).toEqual([]);
    expect(log.callsTo('analyses.complete')).toEqual([]);
  });

  it('retries a timed-out attempt, and fails the analysis with analysis-timeout when the last one times out', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async (request) => {
        if (!request.signal.aborted)
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
        throw request.signal.reason;
      }),
      events: events.fake,
    }).run;
    const payload = { analysisId: analysis.id, orgId };

    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const controller = new AbortController();
      const outcome = run(payload, jobContext(attempt, controller.signal));
      controller.abort(new JobTimeoutError('analysis.run', 300));
      await expect(outcome).rejects.toBeInstanceOf(JobTimeoutError);
      expect(table.row(analysis.id)?.status, `after attempt ${attempt}`).toBe(
        attempt < maxAttempts ? 'running' : 'failed',
      );
    }
    expect(table.row(analysis.id)).toMatchObject({
      status: 'failed',
      error_code: 'analysis-timeout',
      error_detail: 'analysis.run timed out after 300 ms',
      attempts: maxAttempts,
    });
    expect(events.types().filter((type) => type === 'analysis.failed')).toHaveLength(1);
  });

  it('fails with worker-lost, without running, when the last attempt already started and never ended', async () => {
    const analysis = analysisRow({ status: 'running', attempts: maxAttempts });
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({ analyses: table.repository, events: events.fake }).run;

    await expect(run({ analysisId: analysis.id, orgId }, jobContext(1))).rejects.toBeInstanceOf(
      PermanentJobError,
    );
    expect(table.row(analysis.id)).toMatchObject({ status: 'failed', error_code: 'worker-lost' });
    expect(log.names()).toEqual([
      'analyses.findByIdUnscoped',
      'analyses.markRunning',
      'analyses.fail',
      'artifacts.discard',
      'events.publish',
    ]);
    expect(events.types()).toEqual(['analysis.failed']);
  });

  it('fails the analysis, permanently, on its own last attempt even when the job has attempts left', async () => {
    const analysis = analysisRow({ status: 'running', attempts: maxAttempts - 1 });
    const table = analysesTable([analysis]);
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async () => {
        throw new Error('decoder crashed');
      }),
      events: eventBus().fake,
    }).run;

    const failure = await run({ analysisId: analysis.id, orgId }, jobContext(1)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PermanentJobError);
    expect(table.row(analysis.id)).toMatchObject({
      status: 'failed',
      error_code: 'analysis-failed',
      error_detail: 'decoder crashed',
    });
  });

  it('never writes a report read from a blob that failed authentication: blob-integrity, audited, no retry', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const blobs = gateway();
    const audit = auditLog();
    const events = eventBus();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: blobs.fake,
      // The pipeline finishes (ffmpeg took the cut connection for end of file) after the gateway saw tampering.
      pipeline: pipelineReturning(async (request) => {
        blobs.handles[0]?.integrity.abort(new BlobIntegrityError('segment 7 does not authenticate'));
        return stagedRun({ ...request, signal: new AbortController().signal });
      }),
      events: events.fake,
      audit: audit.fake,
    }).run;

    const failure = await run({ analysisId: analysis.id, orgId }, jobContext(1)).catch(
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(PermanentJobError);
    expect(log.callsTo('analyses.complete')).toEqual([]);
    expect(table.row(analysis.id)).toMatchObject({
      status: 'failed',
      error_code: 'blob-integrity',
      report: null,
    });
    expect(audit.appended).toEqual([
      {
        orgId,
        actor: { type: 'system', id: null },
        action: 'analysis.integrity-failure',
        outcome: 'failure',
        target: { type: 'analysis', id: analysis.id },
        details: {
          mediaId: analysis.media_id,
          error: 'blob failed authentication: segment 7 does not authenticate',
        },
      },
    ]);
    expect(events.types()).not.toContain('analysis.done');
    expect(events.types().at(-1)).toBe('analysis.failed');
    expect(blobs.handles[0]?.closed).toBe(true);
  });

  it('treats a blob that fails authentication when opened as blob-integrity too', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const audit = auditLog();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: log.fake<BlobGateway>('blobGateway', {
        open: async () => {
          throw new BlobIntegrityError('blob is truncated');
        },
      }),
      events: eventBus().fake,
      audit: audit.fake,
    }).run;

    await expect(run({ analysisId: analysis.id, orgId }, jobContext(1))).rejects.toBeInstanceOf(
      PermanentJobError,
    );
    expect(table.row(analysis.id)).toMatchObject({ status: 'failed', error_code: 'blob-integrity' });
    expect(audit.appended.map((event) => event.action)).toEqual(['analysis.integrity-failure']);
  });

  it('drops a job whose organisation does not match the analysis row, touching nothing', async () => {
    const analysis = analysisRow({ org_id: otherOrgId });
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({ analyses: table.repository, events: events.fake }).run;

    await expect(run({ analysisId: analysis.id, orgId }, jobContext(1))).resolves.toBeUndefined();

    expect(log.names()).toEqual(['analyses.findByIdUnscoped']);
    expect(table.row(analysis.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(events.published).toEqual([]);
  });

  it('drops a job whose analysis does not exist', async () => {
    const table = analysesTable([]);
    const run = service({ analyses: table.repository }).run;

    await expect(run({ analysisId: randomUUID(), orgId }, jobContext(1))).resolves.toBeUndefined();
    expect(log.names()).toEqual(['analyses.findByIdUnscoped']);
  });

  it.each([
    ['gone', () => null],
    ['deleted', (analysis: Analysis) => mediaRow(analysis, { status: 'deleted' })],
  ] as const)('fails with media-missing when the media is %s, without opening it', async (_case, media) => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    const run = service({
      analyses: table.repository,
      media: mediaLookup(media(analysis)),
      events: events.fake,
    }).run;

    await expect(run({ analysisId: analysis.id, orgId }, jobContext(1))).resolves.toBeUndefined();

    expect(table.row(analysis.id)).toMatchObject({ status: 'failed', error_code: 'media-missing' });
    expect(events.published).toEqual([
      expect.objectContaining({ type: 'analysis.failed', analysisId: analysis.id, orgId, status: 'failed' }),
    ]);
    expect(log.callsTo('media.findById')[0]?.args).toEqual([orgId, analysis.media_id]);
  });
});

describe('AnalysisService.onJobExhausted', () => {
  it('fails a live analysis with worker-lost when the queue gave up after its worker died', async () => {
    const analysis = analysisRow({ status: 'running', attempts: maxAttempts });
    const table = analysesTable([analysis]);
    const events = eventBus();
    await service({ analyses: table.repository, events: events.fake }).onJobExhausted(
      { analysisId: analysis.id, orgId },
      {
        jobId: analysis.id,
        attempts: 3,
        cause: 'worker-lost',
        error: 'worker lost during the final attempt',
      },
    );
    expect(table.row(analysis.id)).toMatchObject({ status: 'failed', error_code: 'worker-lost' });
    expect(table.row(analysis.id)?.error_detail).toMatch(/worker lost during the final attempt/);
    expect(events.types()).toEqual(['analysis.failed']);
  });

  it('keeps the reason of an analysis that already failed, and ignores a job of another organisation', async () => {
    const failed = analysisRow({ status: 'failed', error_code: 'blob-integrity', error_detail: 'tampered' });
    const foreign = analysisRow({ status: 'running', org_id: otherOrgId });
    const table = analysesTable([failed, foreign]);
    const exhaustion = { jobId: 'x', attempts: 3, cause: 'handler-failed' as const, error: 'Error: boom' };
    const onJobExhausted = service({ analyses: table.repository, events: eventBus().fake }).onJobExhausted;
    await onJobExhausted({ analysisId: failed.id, orgId }, exhaustion);
    await onJobExhausted({ analysisId: foreign.id, orgId }, exhaustion);
    expect(table.row(failed.id)).toMatchObject({ status: 'failed', error_code: 'blob-integrity' });
    expect(table.row(foreign.id)?.status).toBe('running');
  });
});

describe('AnalysisService.reconcile', () => {
  const staleAfterMs = 120_000;
  const stale = new Date(clock.getTime() - staleAfterMs - 1_000);
  const fresh = new Date(clock.getTime() - staleAfterMs + 1_000);

  it('re-enqueues only stale queued or running analyses that have no pending job', async () => {
    const lostQueued = analysisRow({ status: 'queued', updated_at: stale });
    const lostRunning = analysisRow({ status: 'running', updated_at: stale, org_id: otherOrgId });
    const withLiveJob = analysisRow({ status: 'queued', updated_at: stale });
    const recent = analysisRow({ status: 'running', updated_at: fresh });
    const finished = analysisRow({ status: 'done', updated_at: stale });
    const failed = analysisRow({ status: 'failed', updated_at: stale });
    const table = analysesTable([lostQueued, lostRunning, withLiveJob, recent, finished, failed]);
    const enqueued: { name: string; payload: unknown; jobId: string }[] = [];
    const queue = log.fake<JobQueue>('queue', {
      kind: 'embedded',
      isPending: async (_name, jobId) => jobId === withLiveJob.id,
      enqueue: async (name, payload, options) => {
        enqueued.push({ name, payload, jobId: options.jobId });
      },
    });

    const requeued = await service({ analyses: table.repository, queue }).reconcile(staleAfterMs);

    expect(requeued).toBe(2);
    expect(log.callsTo('analyses.findStale')[0]?.args[0]).toMatchObject({
      olderThan: new Date(clock.getTime() - staleAfterMs),
    });
    expect(enqueued).toEqual(
      expect.arrayContaining([
        { name: 'analysis.run', payload: { analysisId: lostQueued.id, orgId }, jobId: lostQueued.id },
        {
          name: 'analysis.run',
          payload: { analysisId: lostRunning.id, orgId: otherOrgId },
          jobId: lostRunning.id,
        },
      ]),
    );
    expect(enqueued).toHaveLength(2);
    expect(log.callsTo('analyses.requeue').map((call) => call.args[0])).toEqual(
      expect.arrayContaining([lostQueued.id, lostRunning.id]),
    );
    expect(log.callsTo('analyses.requeue')).toHaveLength(2);
    expect(table.row(lostRunning.id)?.status).toBe('queued');
    expect(table.row(withLiveJob.id)?.status).toBe('queued');
    expect(table.row(recent.id)?.status).toBe('running');
  });

  it('fails, instead of reviving, a stale analysis that has used its attempts', async () => {
    const usedUp = analysisRow({ status: 'running', attempts: maxAttempts, updated_at: stale });
    const table = analysesTable([usedUp]);
    const events = eventBus();
    const queue = log.fake<JobQueue>('queue', { kind: 'embedded', isPending: async () => false });

    const requeued = await service({ analyses: table.repository, queue, events: events.fake }).reconcile(
      staleAfterMs,
    );

    expect(requeued).toBe(0);
    expect(table.row(usedUp.id)).toMatchObject({ status: 'failed', error_code: 'attempts-exhausted' });
    expect(log.callsTo('analyses.requeue')).toEqual([]);
    expect(events.types()).toEqual(['analysis.failed']);
  });

  it('does nothing when no analysis is stale', async () => {
    const table = analysesTable([analysisRow({ updated_at: fresh })]);
    const requeued = await service({ analyses: table.repository }).reconcile(staleAfterMs);
    expect(requeued).toBe(0);
    expect(log.names()).toEqual(['analyses.findStale']);
  });
});

describe('AnalysisService read-cache invalidation', () => {
  const cache = () => log.fake<CacheInvalidation>('cache', { invalidate: async () => undefined });
  // Each status write, then the bump of its organisation, then (for an end) the event a client reacts to.
  const order = () =>
    log
      .names()
      .filter((name) =>
        /^(analyses\.(markRunning|complete|fail|requeue)|cache\.invalidate|events\.publish)$/.test(name),
      );

  it('bumps the organisation after running and after the report is written, before analysis.done', async () => {
    const analysis = analysisRow();
    const table = analysesTable([analysis]);
    const events = eventBus();
    await service({
      analyses: table.repository,
      media: mediaLookup(mediaRow(analysis)),
      blobGateway: gateway().fake,
      pipeline: pipelineReturning(async () => doneReport),
      events: events.fake,
      cache: cache(),
    }).run({ analysisId: analysis.id, orgId }, jobContext(1));
    expect(order()).toEqual([
      'analyses.markRunning',
      'cache.invalidate',
      'events.publish',
      'analyses.complete',
      'cache.invalidate',
      'events.publish',
    ]);
    expect(log.callsTo('cache.invalidate').map((call) => call.args)).toEqual([[orgId], [orgId]]);
  });

  it('bumps on a failure the queue decides and on a re-queue, not when nothing was written', async () => {
    const running = analysisRow({ status: 'running', attempts: maxAttempts });
    const done = analysisRow({ status: 'done' });
    const lost = analysisRow({ status: 'queued', org_id: otherOrgId, updated_at: new Date(0) });
    const table = analysesTable([running, done, lost]);
    const queue = log.fake<JobQueue>('queue', {
      kind: 'embedded',
      isPending: async () => false,
      enqueue: async () => undefined,
    });
    const analysisService = service({
      analyses: table.repository,
      events: eventBus().fake,
      queue,
      cache: cache(),
    });
    const exhaustion = { jobId: 'x', attempts: 3, cause: 'worker-lost' as const, error: 'gone' };
    await analysisService.onJobExhausted({ analysisId: running.id, orgId }, exhaustion);
    await analysisService.onJobExhausted({ analysisId: done.id, orgId }, exhaustion);
    await analysisService.reconcile(60_000);
    expect(order()).toEqual([
      'analyses.fail',
      'cache.invalidate',
      'events.publish',
      'analyses.fail',
      'analyses.requeue',
      'cache.invalidate',
    ]);
    expect(log.callsTo('cache.invalidate').map((call) => call.args)).toEqual([[orgId], [otherOrgId]]);
  });
});
