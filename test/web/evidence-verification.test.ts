import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import { statementBytes, statementLeafHash, type AnalysisStatement } from '../../src/evidence/statement.js';
import {
  bundleFacts,
  explainCheck,
  isCanonicalForm,
  parseLeafQuery,
  statementDigests,
  verdictSentence,
  verifyRequestBody,
} from '../../web/src/components/evidence-verification.js';
import {
  formatBytes,
  hashFileSha256,
  HashCancelledError,
} from '../../web/src/components/media-file-hasher.js';

const hex = (byte: string) => byte.repeat(64);
const statement: AnalysisStatement = {
  format: 'guardian-analysis-statement-v1',
  analysisId: '0b5c7a1e-2f3d-4a5b-8c6d-7e8f9a0b1c2d',
  organisationSha256: hex('a'),
  media: { sha256: hex('b') },
  report: { sha256: hex('c'), canonicalization: 'RFC8785' },
  versions: {
    pipeline: '1.0.0',
    detectors: { 'gop-double-compression': '2', 'face-noise-mismatch': '3', é: 'ü' },
    models: {},
    faceModels: null,
    ffmpeg: '7.1',
    ffprobe: '7.1',
  },
  calibrationSha256: null,
  completedAt: '2025-03-01T12:00:00.000Z',
  keyId: hex('d'),
};

describe('the verify page in the browser: statement digests', () => {
  it('computes the same statement SHA-256 and leaf hash as the server', () => {
    const digests = statementDigests(JSON.parse(JSON.stringify(statement)));
    expect(digests).toEqual({
      statementSha256: createHash('sha256').update(statementBytes(statement)).digest('hex'),
      leafHash: statementLeafHash(statement).toString('hex'),
    });
  });

  it('gives none for what is not an object', () => {
    expect(statementDigests(undefined)).toBeNull();
    expect(statementDigests('text')).toBeNull();
  });
});

describe('the verify page: reading and sending the bundle file', () => {
  const bundle = { format: 'guardian-evidence-bundle-v1', leafIndex: 3, statement, report: { n: 1.5 } };
  const text = canonicalJson(bundle);

  it('splices the file text unchanged into the request body', () => {
    const odd = '{ "b" : 1,\n"a": [1.50, "\\u00e9"] }';
    expect(verifyRequestBody(odd, [])).toBe(`{"bundle":${odd}}`);
    const body = verifyRequestBody(odd, [hex('d')]);
    expect(body).toContain(odd);
    expect(JSON.parse(body)).toEqual({ bundle: JSON.parse(odd), trustedKeyIds: [hex('d')] });
  });

  it('tells the issued RFC 8785 form from a reformatted file', () => {
    expect(isCanonicalForm(text, JSON.parse(text))).toBe(true);
    const pretty = JSON.stringify(bundle, null, 2);
    expect(isCanonicalForm(pretty, JSON.parse(pretty))).toBe(false);
    expect(isCanonicalForm(`${text}\n`, JSON.parse(text))).toBe(false);
  });

  it('reads the leaf index and media hash without trusting the shape', () => {
    expect(bundleFacts(JSON.parse(text))).toMatchObject({ leafIndex: 3, mediaSha256: hex('b') });
    expect(bundleFacts({ leafIndex: -1, statement: { media: { sha256: 'BAD' } } })).toMatchObject({
      leafIndex: null,
      mediaSha256: null,
    });
    expect(bundleFacts(null)).toEqual({ leafIndex: null, mediaSha256: null, statement: null });
  });

  it('takes ?leaf=N&statement=HEX from the PDF QR code, and nothing malformed', () => {
    expect(parseLeafQuery(`?leaf=12&statement=${hex('A')}`)).toEqual({
      leafIndex: 12,
      statementSha256: hex('a'),
    });
    expect(parseLeafQuery(`?leaf=-1&statement=${hex('a')}`)).toBeNull();
    expect(parseLeafQuery(`?leaf=1.5&statement=${hex('a')}`)).toBeNull();
    expect(parseLeafQuery('?leaf=1&statement=abc')).toBeNull();
    expect(parseLeafQuery('')).toBeNull();
  });
});

describe('the verify page: checks in plain words', () => {
  it('words each known check by its status, and keeps the server words for an unknown one', () => {
    const failed = explainCheck({ name: 'report-hash', status: 'failed', detail: 'sha differs' });
    expect(failed).toMatchObject({
      title: 'The report is the one the statement names',
      detail: 'sha differs',
    });
    expect(failed.reason).toMatch(/differs/);
    expect(explainCheck({ name: 'new-check', status: 'passed', detail: 'fine' })).toMatchObject({
      title: 'new-check',
      reason: 'fine',
    });
  });

  it('fails the verdict on any failed check and counts the ones that could not run', () => {
    const passed = explainCheck({ name: 'report-hash', status: 'passed', detail: '' });
    const skipped = explainCheck({ name: 'anchors', status: 'not-checked', detail: '' });
    const failed = explainCheck({ name: 'media-hash', status: 'failed', detail: '' }, 'browser');
    expect(verdictSentence([passed, skipped])).toEqual({
      ok: true,
      sentence: 'Verified: every check that could run passed. 1 check could not run; see why below.',
    });
    expect(verdictSentence([passed, skipped, failed]).ok).toBe(false);
    expect(verdictSentence([passed, failed]).sentence).toMatch(/^Not verified: 1 check failed/);
  });
});

describe('hashing a media file in the browser', () => {
  it('hashes chunk by chunk to the SHA-256 of the whole file, reporting progress to the end', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const seen: number[] = [];
    const digest = await hashFileSha256(new Blob([bytes]), {
      progressEveryMs: 0,
      onProgress: ({ bytesHashed, totalBytes }) => {
        expect(totalBytes).toBe(bytes.length);
        seen.push(bytesHashed);
      },
    });
    expect(digest).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(bytes.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('stops when cancelled, with a cancellation rather than a digest', async () => {
    const controller = new AbortController();
    const hashing = hashFileSha256(new Blob([randomBytes(8 * 1024 * 1024)]), {
      signal: controller.signal,
      progressEveryMs: 0,
      onProgress: () => controller.abort(),
    });
    await expect(hashing).rejects.toBeInstanceOf(HashCancelledError);
  });

  it('hashes an empty file', async () => {
    expect(await hashFileSha256(new Blob([]))).toBe(createHash('sha256').digest('hex'));
  });

  it('formats sizes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(3_400_000_000)).toBe('3.4 GB');
  });
});
