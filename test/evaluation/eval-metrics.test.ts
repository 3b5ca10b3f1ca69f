import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/evaluation/eval-metrics.js';
import type { ItemResult } from '../../src/evaluation/eval-run.js';
import { faceFound } from '../../src/evaluation/face-presence.js';
import type { EvalItem } from '../../src/evaluation/synthetic-set.js';
import type { AnalysisReport, Band } from '../../src/pipeline/report.js';

const item = (id: string, fields: Partial<EvalItem> = {}): EvalItem => ({
  id,
  file: `${id}.mp4`,
  media: 'video',
  label: 'authentic',
  kind: null,
  twinOf: null,
  source: 'a.png',
  format: 'h264-crf20',
  post: 'none',
  noise: 'low',
  faceBox: { x: 0, y: 0, width: 10, height: 10 },
  parameters: {},
  ...fields,
});
const fake = (id: string, twinOf: string, media: EvalItem['media'] = 'video') =>
  item(id, { label: 'manipulated', kind: 'face-smooth', twinOf, media });
const result = (
  id: string,
  band: Band | null,
  score: number | null,
  face: boolean | null = null,
): ItemResult => ({
  id,
  band,
  fusedScore: null,
  detectors: { 'noise@1': score },
  faceFound: face,
  durationMs: 1,
});

describe('computeMetrics', () => {
  const items = [
    item('v1'),
    item('v2'),
    item('s1', { media: 'image' }),
    fake('v1-smooth', 'v1'),
    fake('v2-smooth', 'v2'),
    fake('s1-smooth', 's1', 'image'),
  ];
  const results = [
    result('v1', 'no_indicators', 0.1, true),
    result('v2', 'indicators_found', 0.4, true),
    result('s1', 'not_analyzable', null, false),
    result('v1-smooth', 'indicators_found', 0.9, true),
    result('v2-smooth', 'inconclusive', 0.3, true),
    result('s1-smooth', 'inconclusive', 0.5),
  ];
  const metrics = computeMetrics(items, results);

  it('ranks bands against the authentic twins, leaving not_analyzable out', () => {
    const all = metrics.kinds.find((entry) => entry.kind === 'face-smooth' && entry.media === 'all')!;
    // Positives (ranks) 2, 1, 1 against negatives 0, 2 (s1 left out): pairs won 1 + 0.5 + 1 + 0 + 1 + 0 = 3.5 of 6.
    expect(all.fusedBand).toEqual({ auc: 3.5 / 6, positives: 3, negatives: 2, missing: 1 });
    // Scores 0.9, 0.3, 0.5 against 0.1, 0.4: 2 + 1 + 2 = 5 of 6.
    expect(all.detectors).toEqual([
      { detector: 'noise@1', auc: 5 / 6, positives: 3, negatives: 2, missing: 1 },
    ]);
    expect(all.fusedScore).toBeNull();
    const video = metrics.kinds.find((entry) => entry.kind === 'face-smooth' && entry.media === 'video')!;
    // 2 vs 0 and 2 (1.5), 1 vs 0 and 2 (1): 2.5 of 4.
    expect(video.fusedBand).toEqual({ auc: 0.625, positives: 2, negatives: 2, missing: 0 });
  });

  it('counts authentic items marked indicators_found, faces found and not_analyzable', () => {
    expect(metrics.authentic).toEqual({ items: 3, indicatorsFound: 1, rate: 1 / 3 });
    expect(metrics.faces).toEqual({ found: 4, notFound: 1, unknown: 1, rate: 0.8 });
    expect(metrics.notAnalyzable).toBe(1);
    expect(metrics.errors).toBe(0);
  });
});

describe('faceFound', () => {
  const report = (faces: unknown) => ({ faces, detectors: [] }) as unknown as AnalysisReport;

  it('reads the report face tracks: an analysed track is a face found, no search is unknown', () => {
    expect(faceFound(report([{ analysed: true }]))).toBe(true);
    expect(faceFound(report([{ analysed: false, reason: 'too small' }]))).toBe(false);
    expect(faceFound(report([]))).toBe(false);
    expect(faceFound(report(null))).toBeNull();
  });
});
