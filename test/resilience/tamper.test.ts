import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openManagement } from '../../src/app/management-context.js';
import { loadConfig } from '../../src/config/load-config.js';
import { HEADER_BYTES, TAG_BYTES } from '../../src/storage/segmented-aead.js';
import { databaseImplementations, type TestDatabase } from '../helpers/databases.js';
import {
  builtCliIsFresh,
  runGuardian,
  startGuardian,
  type RunningGuardian,
} from '../helpers/guardian-process.js';
import { generateClip, runFfmpeg } from '../helpers/media-fixtures.js';
import { writeModelFixture } from '../helpers/model-card-fixture.js';
import { uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import { reportFigure } from './figures.js';
import {
  asTableOwner,
  blobPath,
  fetchAnswer,
  flipped,
  howRefused,
  refusedWithoutAlteredBytes,
  rewriteAuditChainFrom,
  withFilesReplaced,
  type Answer,
} from './tamper-tools.js';

// Scaled mode without Redis (PostgreSQL, embedded queue, blobs under DATA_DIR): the test can edit rows while
// the server runs, and no reply cache stands between an edited row and the API.
const full = process.env.RESILIENCE === 'full';
const postgres = databaseImplementations().find((implementation) => implementation.name === 'postgres')!;
const skipReason = postgres.skipReason;
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);

const suite = 'tamper';
const segmentBytes = 64 * 1024;
const target = 'integrity error, no altered byte served';

interface Stored {
  mediaId: string;
  analysisId: string;
  blobKey: string;
  /** The genuine plaintext, as uploaded. */
  content: Buffer;
}

describe.skipIf(skipReason !== undefined)(
  'tamper: stored bytes, rows and audit entries altered under a running platform',
  () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let database: TestDatabase;
    let sql: pg.Client;
    let server: RunningGuardian;
    let baseUrl: string;
    let analyst: string;
    let auditor: string;
    let first: Stored;
    let second: Stored | null = null;
    let shareToken: string;
    let artifactPath: string;

    const get = (path: string, key: string | null = analyst, headers: Record<string, string> = {}) =>
      fetchAnswer(`${baseUrl}${path}`, {
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      });
    // As an operator runs it (dist/, as bin/guardian.js does) when dist/ is fresh; from source otherwise, never stale.
    const guardian = (args: string[]) => runGuardian(args, env, { timeoutMs: 60_000 });

    async function upload(path: string): Promise<Stored> {
      const response = await uploadMultipart(baseUrl, analyst, path);
      expect(response.status, await response.clone().text()).toBe(201);
      const { id: mediaId, analysisId } = (await response.json()) as { id: string; analysisId: string };
      expect((await waitForAnalysis(baseUrl, analyst, analysisId)).status).toBe('done');
      const row = await sql.query<{ blob_key: string }>('select blob_key from media where id = $1', [
        mediaId,
      ]);
      return { mediaId, analysisId, blobKey: row.rows[0]!.blob_key, content: readFileSync(path) };
    }

    function record(measure: string, answer: Answer, met: boolean): void {
      reportFigure({
        suite,
        measure,
        value: `${met ? 'detected' : 'NOT detected'}: ${howRefused(answer)}`,
        target,
        met,
      });
    }

    beforeAll(async () => {
      if (!builtCliIsFresh())
        console.warn('[tamper] dist/ is older than src/: the CLI checks run from source');
      dir = mkdtempSync(join(tmpdir(), 'guardian-tamper-'));
      database = await postgres.open();
      await database.close();
      sql = new pg.Client({ connectionString: database.settings.databaseUrl });
      await sql.connect();
      // A model detector keeps an artifact (scores.json) for every analysis: a second kind of stored blob.
      const model = await writeModelFixture(dir, 'redness');
      env = {
        DATA_DIR: join(dir, 'data'),
        PORT: '0',
        DATABASE_URL: database.settings.databaseUrl,
        MODEL_CARDS: model.cardPath,
        LIFECYCLE_INTERVAL_SECONDS: '0',
      };
      // A noisy PNG (~134 KiB, quick to analyse) is two full 64 KiB segments and a short last one.
      const still = join(dir, 'noisy-still.png');
      const stillArgs = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=1', '-vf', 'noise=alls=10:allf=t'];
      const [, started] = await Promise.all([
        runFfmpeg([...stillArgs, '-frames:v', '1', still]),
        startGuardian('serve', env),
      ]);
      server = started;
      baseUrl = server.url!;
      // Organisation and keys in this process (the same management commands the CLI runs): no CLI start-ups.
      const management = await openManagement(loadConfig({ ...process.env, ...env }));
      try {
        await management.commands['org.create']({ name: 'Newsroom' });
        const keyOf = async (role: string) =>
          (
            (await management.commands['apikey.create']({ orgName: 'Newsroom', name: role, role })) as {
              key: string;
            }
          ).key;
        analyst = await keyOf('analyst');
        auditor = await keyOf('auditor');
      } finally {
        await management.close();
      }
      first = await upload(still);
      expect(statSync(blobPath(env.DATA_DIR!, first.blobKey)).size).toBeGreaterThan(
        HEADER_BYTES + 2 * segmentBytes,
      );
      const share = await fetch(`${baseUrl}/api/v1/analyses/${first.analysisId}/shares`, {
        method: 'POST',
        headers: { authorization: `Bearer ${analyst}` },
      });
      expect(share.status).toBe(201);
      shareToken = ((await share.json()) as { token: string }).token;
      artifactPath = blobPath(env.DATA_DIR!, `analysis-artifacts-${first.analysisId}`);
      // Full form: a second stored file (a short video) to swap ciphertexts with.
      if (full)
        second = await upload(
          await generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'second' }),
        );
    }, 180_000);

    afterAll(async () => {
      await server?.stop();
      await sql?.end();
      await database?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('starts intact: every read answers, audit verify and log check pass', async () => {
      expect((await get(`/api/v1/media/${first.mediaId}/content`)).bytes.equals(first.content)).toBe(true);
      expect((await get(`/api/v1/analyses/${first.analysisId}`)).status).toBe(200);
      const artifacts = JSON.parse(
        (await get(`/api/v1/analyses/${first.analysisId}/artifacts`)).bytes.toString(),
      ) as {
        artifacts: { href: string | null }[];
      };
      expect(artifacts.artifacts.map((artifact) => artifact.href)).toContainEqual(
        expect.stringContaining('scores.json'),
      );
      // The same commands `guardian audit verify` and `guardian log check` run, in this process.
      const management = await openManagement(loadConfig({ ...process.env, ...env }));
      try {
        expect(await management.commands['audit.verify']()).toMatchObject({ ok: true });
        expect(await management.commands['log.check']({})).toMatchObject({ ok: true, leaves: full ? 2 : 1 });
      } finally {
        await management.close();
      }
    }, 60_000);

    describe('a byte flipped in the encrypted media blob', () => {
      const cases = [
        { name: 'middle of the first 64 KiB segment', offset: () => HEADER_BYTES + segmentBytes / 2 },
        { name: 'last byte (the final segment tag)', offset: (size: number) => size - 1 },
        { name: 'wrapped data key in the header', offset: () => 200 },
      ];
      for (const { name, offset } of cases)
        it(`${name}: the download is refused with blob-integrity`, async () => {
          const path = blobPath(env.DATA_DIR!, first.blobKey);
          const stored = readFileSync(path);
          await withFilesReplaced(new Map([[path, flipped(stored, offset(stored.length))]]), async () => {
            const answer = await get(`/api/v1/media/${first.mediaId}/content`);
            const met = answer.status === 500 && answer.code === 'blob-integrity';
            record(`media blob, ${name}`, answer, met);
            expect(howRefused(answer)).toBe('500 blob-integrity');
          });
          expect((await get(`/api/v1/media/${first.mediaId}/content`)).bytes.equals(first.content)).toBe(
            true,
          );
        });
    });

    it('a byte flipped in the artifact blob: the artifact is refused with blob-integrity', async () => {
      const stored = readFileSync(artifactPath);
      await withFilesReplaced(new Map([[artifactPath, flipped(stored, stored.length - 20)]]), async () => {
        const answer = await get(
          `/api/v1/analyses/${first.analysisId}/artifacts/model%3Aredness/scores.json`,
        );
        record('artifact blob, byte in the last segment', answer, answer.code === 'blob-integrity');
        expect(howRefused(answer)).toBe('500 blob-integrity');
      });
    });

    it('a byte changed in the stored report: every read of it is refused, and log check names the leaf', async () => {
      const { rows } = await sql.query<{ report: { reasons: string[] } }>(
        'select report from analyses where id = $1',
        [first.analysisId],
      );
      const genuine = rows[0]!.report;
      const altered = structuredClone(genuine);
      altered.reasons[0] = `${altered.reasons[0]!.slice(0, -1)}!`;
      await sql.query('update analyses set report = $2 where id = $1', [
        first.analysisId,
        JSON.stringify(altered),
      ]);
      try {
        const reads = {
          'report GET': `/api/v1/analyses/${first.analysisId}`,
          'evidence bundle': `/api/v1/analyses/${first.analysisId}/evidence`,
          'report PDF': `/api/v1/analyses/${first.analysisId}/report.pdf`,
          'artifacts list': `/api/v1/analyses/${first.analysisId}/artifacts`,
          'share link': `/api/v1/shared-reports/${shareToken}`,
        };
        for (const [what, path] of Object.entries(reads)) {
          const answer = await get(path, what === 'share link' ? null : analyst);
          record(`report row, ${what}`, answer, answer.code === 'report-integrity');
          expect(`${what}: ${howRefused(answer)}`).toBe(`${what}: 500 report-integrity`);
          expect(answer.bytes.toString()).not.toContain(altered.reasons[0]);
        }
        const check = await guardian(['log', 'check']);
        const named = check.code === 1 && check.stderr.includes(`report of analysis ${first.analysisId}`);
        reportFigure({
          suite,
          measure: 'report row, guardian log check',
          value: `exit ${check.code}${named ? ', names leaf 0 and the analysis' : ''}`,
          target: 'exit 1 naming the record',
          met: named,
        });
        expect(check.code, check.stdout).toBe(1);
        expect(check.stderr).toContain(`report-altered: leaf 0: report of analysis ${first.analysisId}`);
        expect(check.stderr).toContain('(first bad leaf index: 0)');
      } finally {
        await sql.query('update analyses set report = $2 where id = $1', [
          first.analysisId,
          JSON.stringify(genuine),
        ]);
      }
      expect((await get(`/api/v1/analyses/${first.analysisId}`)).status).toBe(200);
    });

    it('a byte changed in an audit entry: audit verify and the API name the entry', async () => {
      await asTableOwner(sql, 'audit_events', () =>
        sql.query("update audit_events set action = 'apikey.creatf' where seq = 2").then(() => undefined),
      );
      try {
        const verify = await guardian(['audit', 'verify']);
        const named = verify.code === 1 && verify.stderr.includes('FAILED at entry 2');
        reportFigure({
          suite,
          measure: 'audit entry, guardian audit verify',
          value: `exit ${verify.code}${named ? ', names entry 2' : ''}`,
          target: 'exit 1 naming the entry',
          met: named,
        });
        expect(verify.code).toBe(1);
        expect(verify.stderr).toContain('audit log verification FAILED at entry 2: entry 2 was altered');
        const api = JSON.parse(
          (await get('/api/v1/audit-events/verification', auditor)).bytes.toString(),
        ) as Record<string, unknown>;
        expect(api).toMatchObject({ intact: false, firstBadEntry: 2 });
        const listed = await get('/api/v1/audit-events', auditor);
        record('audit entry, audit events API', listed, listed.code === 'audit-integrity');
        expect(howRefused(listed)).toBe('500 audit-integrity');
        expect(listed.bytes.toString()).not.toContain('apikey.creatf');
      } finally {
        await asTableOwner(sql, 'audit_events', () =>
          sql.query("update audit_events set action = 'apikey.create' where seq = 2").then(() => undefined),
        );
      }
    });
    describe.runIf(full)('full form: more places, truncation, swaps, rewritten chains', () => {
      it('a byte flipped mid-way through the second segment: range reads refused, whole downloads cut after genuine bytes', async () => {
        const path = blobPath(env.DATA_DIR!, first.blobKey);
        const stored = readFileSync(path);
        const offset = HEADER_BYTES + (segmentBytes + TAG_BYTES) + segmentBytes / 2;
        await withFilesReplaced(new Map([[path, flipped(stored, offset)]]), async () => {
          const whole = await get(`/api/v1/media/${first.mediaId}/content`);
          record(
            'media blob, middle of the second segment: whole download',
            whole,
            refusedWithoutAlteredBytes(whole, 'blob-integrity', first.content),
          );
          expect(refusedWithoutAlteredBytes(whole, 'blob-integrity', first.content), howRefused(whole)).toBe(
            true,
          );
          expect(whole.bytes.length).toBeLessThan(first.content.length);
          const range = await get(`/api/v1/media/${first.mediaId}/content`, analyst, {
            range: `bytes=${segmentBytes + 10}-${segmentBytes + 99}`,
          });
          record(
            'media blob, middle of the second segment: range read',
            range,
            range.code === 'blob-integrity',
          );
          expect(howRefused(range)).toBe('500 blob-integrity');
          const link = await fetch(`${baseUrl}/api/v1/media/${first.mediaId}/content-links`, {
            method: 'POST',
            headers: { authorization: `Bearer ${analyst}` },
          });
          const { url } = (await link.json()) as { url: string };
          const signed = await fetchAnswer(new URL(url, baseUrl).toString());
          record(
            'media blob, middle of the second segment: signed link',
            signed,
            refusedWithoutAlteredBytes(signed, 'blob-integrity', first.content),
          );
          expect(
            refusedWithoutAlteredBytes(signed, 'blob-integrity', first.content),
            howRefused(signed),
          ).toBe(true);
        });
      });

      it('a truncated blob is refused, wherever it was cut', async () => {
        const path = blobPath(env.DATA_DIR!, first.blobKey);
        const stored = readFileSync(path);
        const lastSegmentStart = HEADER_BYTES + 2 * (segmentBytes + TAG_BYTES);
        const cuts = {
          'inside the last tag': stored.length - 5,
          'at a segment boundary (whole last segment dropped)': lastSegmentStart,
          'after the header': HEADER_BYTES,
          'inside the header': 100,
        };
        for (const [where, length] of Object.entries(cuts)) {
          await withFilesReplaced(new Map([[path, stored.subarray(0, length)]]), async () => {
            const answer = await get(`/api/v1/media/${first.mediaId}/content`);
            record(`media blob truncated ${where}`, answer, answer.code === 'blob-integrity');
            expect(`${where}: ${howRefused(answer)}`).toBe(`${where}: 500 blob-integrity`);
          });
        }
      });

      it('two blobs swapped (ciphertexts exchanged): both refused, the header binds each to its key', async () => {
        const pairs = [
          ['media', blobPath(env.DATA_DIR!, first.blobKey), blobPath(env.DATA_DIR!, second!.blobKey)],
          ['artifact', artifactPath, blobPath(env.DATA_DIR!, `analysis-artifacts-${second!.analysisId}`)],
        ] as const;
        for (const [kind, a, b] of pairs) {
          const swapped = new Map([
            [a, readFileSync(b)],
            [b, readFileSync(a)],
          ]);
          await withFilesReplaced(swapped, async () => {
            const reads =
              kind === 'media'
                ? [`/api/v1/media/${first.mediaId}/content`, `/api/v1/media/${second!.mediaId}/content`]
                : [first.analysisId, second!.analysisId].map(
                    (id) => `/api/v1/analyses/${id}/artifacts/model%3Aredness/scores.json`,
                  );
            for (const path of reads) {
              const answer = await get(path);
              record(`${kind} blobs swapped`, answer, answer.code === 'blob-integrity');
              expect(howRefused(answer)).toBe('500 blob-integrity');
            }
          });
        }
      });

      it('only the band column changed: the report is refused and log check names the leaf', async () => {
        const { rows } = await sql.query<{ band: string }>('select band from analyses where id = $1', [
          first.analysisId,
        ]);
        const genuine = rows[0]!.band;
        const altered = genuine === 'indicators_found' ? 'no_indicators' : 'indicators_found';
        await sql.query('update analyses set band = $2 where id = $1', [first.analysisId, altered]);
        try {
          const answer = await get(`/api/v1/analyses/${first.analysisId}`);
          record('band column', answer, answer.code === 'report-integrity');
          expect(howRefused(answer)).toBe('500 report-integrity');
          const check = await guardian(['log', 'check']);
          expect(check.code).toBe(1);
          expect(check.stderr).toContain(
            `report of analysis ${first.analysisId}: the stored band ${altered}`,
          );
        } finally {
          await sql.query('update analyses set band = $2 where id = $1', [first.analysisId, genuine]);
        }
      });

      it('a byte changed in a signed statement (log leaf): log check names the leaf, the bundle is refused', async () => {
        const { rows } = await sql.query<{ statement: string }>(
          'select statement from log_leaves where analysis_id = $1',
          [first.analysisId],
        );
        const genuine = rows[0]!.statement;
        const altered = genuine.replace(
          /"completedAt":"(\d)/,
          (_, digit: string) => `"completedAt":"${(Number(digit) + 1) % 10}`,
        );
        expect(altered).not.toBe(genuine);
        const setStatement = (statement: string) =>
          asTableOwner(sql, 'log_leaves', async () => {
            await sql.query('update log_leaves set statement = $2 where analysis_id = $1', [
              first.analysisId,
              statement,
            ]);
          });
        await setStatement(altered);
        try {
          const bundle = await get(`/api/v1/analyses/${first.analysisId}/evidence`);
          record('log leaf statement, evidence bundle', bundle, bundle.code === 'report-integrity');
          expect(howRefused(bundle)).toBe('500 report-integrity');
          const check = await guardian(['log', 'check']);
          const named = check.code === 1 && check.stderr.includes('(first bad leaf index: 0)');
          reportFigure({
            suite,
            measure: 'log leaf statement, guardian log check',
            value: `exit ${check.code}${named ? ', names leaf 0' : ''}`,
            target: 'exit 1 naming the record',
            met: named,
          });
          expect(check.stderr).toContain(
            'leaf-altered: leaf 0: its statement does not match its stored leaf hash',
          );
        } finally {
          await setStatement(genuine);
        }
      });

      it('a resumable upload altered on disk: its sidecar record and its staged bytes answer blob-integrity', async () => {
        const headers = { authorization: `Bearer ${analyst}`, 'tus-resumable': '1.0.0' };
        const octets = { ...headers, 'content-type': 'application/offset+octet-stream' };
        const file = first.content;
        const halfDone = async () => {
          const created = await fetch(`${baseUrl}/api/v1/uploads`, {
            method: 'POST',
            headers: {
              ...headers,
              'upload-length': String(file.length),
              'upload-metadata': 'filename eC5wbmc=',
            },
          });
          const url = new URL(created.headers.get('location')!, baseUrl).toString();
          await fetch(url, {
            method: 'PATCH',
            headers: { ...octets, 'upload-offset': '0' },
            body: file.subarray(0, segmentBytes),
          });
          const id = url.split('/').at(-1)!;
          return {
            url,
            sidecar: join(env.DATA_DIR!, 'uploads', `${id}.json`),
            staged: join(env.DATA_DIR!, 'uploads', id),
          };
        };
        const finish = (url: string) =>
          fetchAnswer(url, {
            method: 'PATCH',
            headers: { ...octets, 'upload-offset': String(segmentBytes) },
            body: file.subarray(segmentBytes),
          });
        const sidecarCase = await halfDone();
        const sidecar = readFileSync(sidecarCase.sidecar, 'utf8');
        const at = sidecar.indexOf('"sealedMetadata":"') + 200;
        writeFileSync(
          sidecarCase.sidecar,
          `${sidecar.slice(0, at)}${sidecar[at] === 'A' ? 'B' : 'A'}${sidecar.slice(at + 1)}`,
        );
        const afterSidecar = await finish(sidecarCase.url);
        record(
          'upload sidecar (sealed metadata), resuming PATCH',
          afterSidecar,
          afterSidecar.code === 'blob-integrity',
        );
        expect(howRefused(afterSidecar)).toBe('500 blob-integrity');
        const stagedCase = await halfDone();
        writeFileSync(stagedCase.staged, flipped(readFileSync(stagedCase.staged), HEADER_BYTES + 1000));
        const afterStaged = await finish(stagedCase.url);
        record('staged upload segment, finishing PATCH', afterStaged, afterStaged.code === 'blob-integrity');
        expect(howRefused(afterStaged)).toBe('500 blob-integrity');
        const mediaRows = await sql.query('select count(*)::int as n from media');
        expect(mediaRows.rows[0]).toEqual({ n: 2 });
      });

      it('an analysis of a tampered blob fails blob-integrity and is audited', async () => {
        const path = blobPath(env.DATA_DIR!, first.blobKey);
        const stored = readFileSync(path);
        await withFilesReplaced(
          new Map([[path, flipped(stored, HEADER_BYTES + segmentBytes / 2)]]),
          async () => {
            const response = await fetch(`${baseUrl}/api/v1/media/${first.mediaId}/analyses`, {
              method: 'POST',
              headers: { authorization: `Bearer ${analyst}` },
            });
            expect(response.status).toBe(202);
            const { id } = (await response.json()) as { id: string };
            const finished = await waitForAnalysis(baseUrl, analyst, id);
            expect(finished).toMatchObject({ status: 'failed', error: { code: 'blob-integrity' } });
            const audited = await sql.query(
              "select seq from audit_events where action = 'analysis.integrity-failure' and target_id = $1",
              [id],
            );
            expect(audited.rowCount).toBe(1);
            reportFigure({
              suite,
              measure: 'media blob, analysis run on it',
              value: 'failed blob-integrity, audited',
              target: 'no report from tampered bytes',
              met: true,
            });
          },
        );
      }, 90_000);

      it('an audit chain rewritten from entry 2 (every hash recomputed): audit verify cannot see it, log check can', async () => {
        const saved = (
          await sql.query<{ seq: string; action: string; prev_hash: string; hash: string }>(
            'select seq, action, prev_hash, hash from audit_events order by seq',
          )
        ).rows;
        await asTableOwner(sql, 'audit_events', () => rewriteAuditChainFrom(sql, 2));
        try {
          const verify = await guardian(['audit', 'verify']);
          expect(verify.code, 'a consistent rewrite is beyond the hash chain alone (docs/audit-log.md)').toBe(
            0,
          );
          const check = await guardian(['log', 'check']);
          const named = /audit-head: tree head \d+ signed audit entry \d+/.exec(check.stderr)?.[0];
          reportFigure({
            suite,
            measure: 'audit chain rewritten from entry 2',
            value: `audit verify exit ${verify.code}; log check exit ${check.code}${named ? `, names the ${named.slice(named.indexOf('audit entry'))}` : ''}`,
            target: 'log check exit 1 naming the entry',
            met: check.code === 1 && named !== undefined,
          });
          expect(check.code).toBe(1);
          expect(named).toBeDefined();
        } finally {
          await asTableOwner(sql, 'audit_events', async () => {
            for (const row of saved)
              await sql.query(
                'update audit_events set action = $2, prev_hash = $3, hash = $4 where seq = $1',
                [row.seq, row.action, row.prev_hash, row.hash],
              );
          });
        }
        expect((await guardian(['audit', 'verify'])).code).toBe(0);
      }, 60_000);
    });
  },
);
