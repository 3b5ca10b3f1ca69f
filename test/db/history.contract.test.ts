import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisStatus } from '../../src/db/schema.js';
import type { Principal } from '../../src/http/access-control.js';
import type { Band } from '../../src/pipeline/report.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createHistoryRepository, likeSubstring } from '../../src/repositories/history.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createHistoryService, type HistoryFilters } from '../../src/services/history.service.js';
import { createReanalysisService } from '../../src/services/reanalysis.service.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

describe('likeSubstring', () => {
  it('escapes the LIKE wildcards and the escape character', () => {
    expect(likeSubstring('50%_off\\x')).toBe('%50\\%\\_off\\\\x%');
    expect(likeSubstring('plain')).toBe('%plain%');
  });
});

describeEachImplementation('history lists and re-runs', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let history: ReturnType<typeof createHistoryService>;
  const analyses = () => createAnalysisRepository({ db: database.db });

  beforeAll(async () => {
    database = await implementation.open();
    history = createHistoryService({ history: createHistoryRepository({ db: database.db }) });
  });

  afterAll(async () => {
    await database?.destroy();
  });

  const newOrg = () => createOrganisationRepository({ db: database.db }).create(`org-${randomUUID()}`);

  async function newMedia(
    orgId: string,
    options: {
      createdAt?: string;
      filename?: string | null;
      uploader?: { type: 'user' | 'api-key'; id: string };
      analysis?: { status: AnalysisStatus; band?: Band; createdAt?: string };
    } = {},
  ): Promise<string> {
    const id = randomUUID();
    await createMediaRepository({ db: database.db }).insert(database.db, {
      id,
      org_id: orgId,
      sha256: 'ab'.repeat(32),
      size_bytes: 1000,
      mime_type: 'video/mp4',
      original_filename: options.filename === undefined ? 'clip.mp4' : options.filename,
      blob_key: `media-${id}`,
      status: 'stored',
      probe: '{}',
      uploader_type: options.uploader?.type ?? null,
      uploader_id: options.uploader?.id ?? null,
      ...(options.createdAt ? { created_at: options.createdAt } : {}),
    });
    if (options.analysis) {
      const { status, band, createdAt } = options.analysis;
      await database.db
        .insertInto('analyses')
        .values({
          id: randomUUID(),
          org_id: orgId,
          media_id: id,
          pipeline_version: '1.0.0',
          status,
          progress: 0,
          attempts: 0,
          band: band ?? null,
          report: status === 'done' ? JSON.stringify({ band }) : null,
          ...(createdAt ? { created_at: createdAt } : {}),
        })
        .execute();
    }
    return id;
  }

  async function walkMedia(
    orgId: string,
    limit: number,
    filters: HistoryFilters = {},
    between?: () => Promise<void>,
  ) {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await history.listMedia(orgId, { ...filters, limit, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
      if (between) await between();
    } while (cursor && pages < 100);
    return { seen, pages };
  }

  describe('GET /media pages', () => {
    it('walks every page newest first: no duplicate, no omission, ties broken by id, microseconds kept', async () => {
      const org = await newOrg();
      const ids: { id: string; at: string }[] = [];
      // Same instant for three, two a microsecond apart (one JS millisecond), the rest spread.
      const instants = [
        '2025-01-01T00:00:00.000001Z',
        '2025-01-01T00:00:00.000002Z',
        '2025-01-01T00:00:01.000000Z',
        '2025-01-01T00:00:01.000000Z',
        '2025-01-01T00:00:01.000000Z',
        '2025-01-02T00:00:00.000000Z',
        '2025-01-03T00:00:00.000000Z',
      ];
      for (const at of instants) ids.push({ id: await newMedia(org.id, { createdAt: at }), at });
      const expected = [...ids]
        .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
        .map((entry) => entry.id);
      for (const limit of [1, 2, 3, 7, 8]) {
        const { seen, pages } = await walkMedia(org.id, limit);
        expect(seen, `limit ${limit}`).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
    });

    it('stays exact while media are added during the walk (they are newer: never duplicated, nothing skipped)', async () => {
      const org = await newOrg();
      const before: string[] = [];
      for (let index = 0; index < 9; index += 1) before.push(await newMedia(org.id));
      const added: string[] = [];
      const { seen } = await walkMedia(org.id, 2, {}, async () => {
        added.push(await newMedia(org.id));
      });
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...before].sort());
      const fresh = await history.listMedia(org.id, { limit: 100 });
      expect(
        fresh.items
          .map((item) => item.id)
          .slice(0, added.length)
          .sort(),
      ).toEqual([...added].sort());
    });

    it('ends with nextCursor null, also on an empty list', async () => {
      const org = await newOrg();
      expect(await history.listMedia(org.id, { limit: 5 })).toEqual({ items: [], nextCursor: null });
      await newMedia(org.id);
      expect((await history.listMedia(org.id, { limit: 1 })).nextCursor).toBeNull();
    });

    it('refuses a forged, malformed or other-list cursor with 400 invalid-cursor', async () => {
      const org = await newOrg();
      await newMedia(org.id);
      await newMedia(org.id);
      const forged = Buffer.from(
        JSON.stringify({ k: 'media', t: "2025'; drop table media; --", i: randomUUID() }),
      ).toString('base64url');
      for (const cursor of ['not a cursor', 'eyJ9', forged, 'x'.repeat(401)]) {
        await expect(history.listMedia(org.id, { limit: 1, cursor })).rejects.toMatchObject({
          status: 400,
          code: 'invalid-cursor',
        });
      }
    });

    it('filters by latest band and status, date range, uploader and file name; other organisations never show', async () => {
      const org = await newOrg();
      const other = await newOrg();
      const person = randomUUID();
      await database.db
        .insertInto('users')
        .values({
          id: person,
          org_id: org.id,
          email: `${person}@example.com`,
          password_hash: 'x',
          role: 'analyst',
        })
        .execute();
      const found = await newMedia(org.id, {
        createdAt: '2025-02-01T10:00:00Z',
        filename: '50%_Off\\Sale.MP4',
        uploader: { type: 'user', id: person },
        analysis: { status: 'done', band: 'indicators_found' },
      });
      const queued = await newMedia(org.id, {
        createdAt: '2025-02-02T10:00:00Z',
        filename: '500ff office.mp4',
        analysis: { status: 'queued' },
      });
      const noAnalysis = await newMedia(org.id, { createdAt: '2025-02-03T10:00:00Z', filename: null });
      await newMedia(other.id, {
        filename: '50%_off.mp4',
        analysis: { status: 'done', band: 'indicators_found' },
      });

      const ids = async (filters: HistoryFilters) =>
        (await history.listMedia(org.id, { ...filters, limit: 50 })).items.map((item) => item.id);
      expect(await ids({})).toEqual([noAnalysis, queued, found]);
      expect(await ids({ band: 'indicators_found' })).toEqual([found]);
      expect(await ids({ band: 'no_indicators' })).toEqual([]);
      expect(await ids({ status: 'queued' })).toEqual([queued]);
      expect(await ids({ from: new Date('2025-02-02T10:00:00Z') })).toEqual([noAnalysis, queued]);
      expect(await ids({ to: new Date('2025-02-02T10:00:00Z') })).toEqual([found]);
      expect(await ids({ uploaderId: person })).toEqual([found]);
      // `%` and `_` are literal: '50%' does not match '500ff'; case does not matter.
      expect(await ids({ q: '50%' })).toEqual([found]);
      expect(await ids({ q: '%_o' })).toEqual([found]);
      expect(await ids({ q: '_' })).toEqual([found]);
      expect(await ids({ q: 'off\\sale' })).toEqual([found]);
      expect(await ids({ q: 'OFF' })).toEqual([queued, found]);
      expect(await ids({ q: 'nothing' })).toEqual([]);

      const [item] = (await history.listMedia(org.id, { uploaderId: person, limit: 1 })).items;
      expect(item).toMatchObject({
        originalFilename: '50%_Off\\Sale.MP4',
        sizeBytes: 1000,
        uploader: { type: 'user', id: person, label: `${person}@example.com` },
        latestAnalysis: { status: 'done', band: 'indicators_found' },
      });
      await expect(
        history.listMedia(org.id, { from: new Date('2025-03-01'), to: new Date('2025-02-01'), limit: 1 }),
      ).rejects.toMatchObject({ status: 400, code: 'invalid-date-range' });
    });

    it('shows the latest analysis of each media and leaves deleted media out', async () => {
      const org = await newOrg();
      const id = await newMedia(org.id, {
        analysis: { status: 'done', band: 'no_indicators', createdAt: '2025-01-01T00:00:00Z' },
      });
      const latest = await analyses().createRun(database.db, {
        orgId: org.id,
        mediaId: id,
        pipelineVersion: '1.0.0',
      });
      const page = await history.listMedia(org.id, { limit: 10 });
      expect(page.items[0]?.latestAnalysis).toEqual({ id: latest.id, status: 'queued', band: null });
      expect((await history.listMedia(org.id, { band: 'no_indicators', limit: 10 })).items).toEqual([]);
      await createMediaRepository({ db: database.db }).markDeleted(database.db, org.id, id);
      expect((await history.listMedia(org.id, { limit: 10 })).items).toEqual([]);
    });
  });

  describe('GET /analyses pages', () => {
    it('lists every run, those of deleted media too, filtered and paged without duplicates', async () => {
      const org = await newOrg();
      const kept = await newMedia(org.id, { filename: 'kept.mp4', analysis: { status: 'failed' } });
      const gone = await newMedia(org.id, {
        filename: 'gone.mp4',
        analysis: { status: 'done', band: 'inconclusive' },
      });
      const rerun = await analyses().createRun(database.db, {
        orgId: org.id,
        mediaId: kept,
        pipelineVersion: '1.0.0',
      });
      expect(rerun.run).toBe(2);
      await createMediaRepository({ db: database.db }).markDeleted(database.db, org.id, gone);
      await newMedia((await newOrg()).id, { analysis: { status: 'queued' } });

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await history.listAnalyses(org.id, { limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(3);
      expect(seen[0]).toBe(rerun.id);

      const all = await history.listAnalyses(org.id, { limit: 10 });
      expect(all.items.find((item) => item.mediaId === gone)?.media).toMatchObject({
        deleted: true,
        originalFilename: null,
      });
      expect(
        (await history.listAnalyses(org.id, { status: 'failed', limit: 10 })).items.map((i) => i.mediaId),
      ).toEqual([kept]);
      expect((await history.listAnalyses(org.id, { band: 'inconclusive', limit: 10 })).items).toHaveLength(1);
      expect((await history.listAnalyses(org.id, { q: 'KEPT', limit: 10 })).items).toHaveLength(2);
      await newMedia(org.id);
      const foreign = (await history.listMedia(org.id, { limit: 1 })).nextCursor ?? '';
      expect(foreign).not.toBe('');
      await expect(history.listAnalyses(org.id, { limit: 1, cursor: foreign })).rejects.toMatchObject({
        code: 'invalid-cursor',
      });
    });
  });

  describe('re-runs', () => {
    const principalOf = (orgId: string): Principal => ({
      orgId,
      orgName: 'x',
      role: 'analyst',
      actor: { type: 'api-key', keyId: randomUUID() },
    });

    function reanalysis(enqueued: string[]) {
      const queue = {
        kind: 'bullmq',
        reachable: () => true,
        enqueue: async (_name: string, payload: { analysisId: string }) => {
          enqueued.push(payload.analysisId);
        },
      } as unknown as JobQueue;
      return createReanalysisService({
        db: database.db,
        media: createMediaRepository({ db: database.db }),
        analyses: analyses(),
        queue,
        audit: createAuditLogService({ audit: createAuditRepository({ db: database.db }) }),
        pipelineVersion: '1.0.0',
        log: pino({ level: 'silent' }),
      });
    }
    const client = { ip: '192.0.2.1', userAgent: 'test' };

    it('creates one new run when concurrent re-runs race; the others get 409 analysis-in-progress', async () => {
      const org = await newOrg();
      const id = await newMedia(org.id, { analysis: { status: 'done', band: 'no_indicators' } });
      const enqueued: string[] = [];
      const service = reanalysis(enqueued);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => service.rerun(principalOf(org.id), id, client)),
      );
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const result of lost)
        expect(result.reason).toMatchObject({ status: 409, code: 'analysis-in-progress' });
      const created = (won[0] as PromiseFulfilledResult<{ id: string; run: number }>).value;
      expect(created.run).toBe(2);
      expect(enqueued).toEqual([created.id]);
      const live = await analyses().findLiveForMedia(database.db, org.id, id);
      expect(live?.id).toBe(created.id);
    });

    it('refuses media of another organisation or deleted media with 404, and writes nothing', async () => {
      const org = await newOrg();
      const id = await newMedia(org.id, { analysis: { status: 'failed' } });
      const enqueued: string[] = [];
      await expect(
        reanalysis(enqueued).rerun(principalOf((await newOrg()).id), id, client),
      ).rejects.toMatchObject({
        status: 404,
      });
      await createMediaRepository({ db: database.db }).markDeleted(database.db, org.id, id);
      await expect(reanalysis(enqueued).rerun(principalOf(org.id), id, client)).rejects.toMatchObject({
        status: 404,
      });
      expect(enqueued).toEqual([]);
      expect(await analyses().findIdsForMedia(org.id, id)).toHaveLength(1);
    });
  });
});
