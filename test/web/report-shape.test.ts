import { describe, expect, it } from 'vitest';
import { readReport, type AnalysisView } from '../../web/src/pages/report/report-shape.js';

const view = (overrides: Partial<AnalysisView>): AnalysisView => ({
  id: '6f1c1a52-3a53-4d5e-9c44-0d6f4e1d2b10',
  mediaId: '9e2b6e0a-2a4f-4f0e-8a77-3a0a5f1b0c33',
  status: 'done',
  progress: 100,
  stage: 'report',
  pipelineVersion: 'p1-test',
  band: 'no_indicators',
  reasons: ['every applicable check scored low'],
  detectors: [
    {
      id: 'gop-double-compression',
      version: '1',
      applicable: true,
      score: 0,
      coverage: null,
      explanation: 'x',
    },
  ],
  coverage: 1,
  versions: null,
  error: null,
  createdAt: '2026-12-05T04:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  report: null,
  ...overrides,
});

describe('reading the report the API carries as an open object', () => {
  it('has nothing to show before the analysis is done with a band', () => {
    expect(readReport(view({ status: 'running', band: null }))).toBeNull();
    expect(readReport(view({ status: 'failed', band: null }))).toBeNull();
  });

  it('reads the parts the page shows, and the detectors of the report over those of the summary', () => {
    const report = readReport(
      view({
        report: {
          compression: { kind: 'video', codec: 'h264' },
          faces: [{ id: 1, boxes: [] }, { id: 'not a track' }, null],
          detectors: [{ id: 'face-temporal', perFrame: [{ timeSeconds: 1, score: 0.2 }] }],
          versions: { calibration: { projectDefault: true, source: 'default' } },
          pipelineVersion: 'p1-test',
        },
      }),
    );
    expect(report?.compression?.codec).toBe('h264');
    expect(report?.faces?.map((track) => track.id)).toEqual([1]);
    expect(report?.detectors.map((detector) => detector.id)).toEqual(['face-temporal']);
    expect(report?.calibration?.projectDefault).toBe(true);
  });

  it('stays usable when a stored report lacks newer fields', () => {
    const report = readReport(view({ report: { compression: 'odd', faces: 'odd' } }));
    expect(report).toMatchObject({ compression: null, faces: null, sampling: null, calibration: null });
    expect(report?.detectors.map((detector) => detector.id)).toEqual(['gop-double-compression']);
  });
});
