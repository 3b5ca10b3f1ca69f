import { describe, expect, it } from 'vitest';
import { fuseDetectorReports } from '../../src/pipeline/fusion.js';
import type { DetectorReport } from '../../src/pipeline/report.js';

function report(
  id: string,
  score: number | null,
  fraction = 1,
  extra: Partial<DetectorReport> = {},
): DetectorReport {
  return {
    id,
    version: '1.0.0',
    strength: 'standard',
    applicable: true,
    score,
    coverage: { unit: 'video packets', analysed: fraction * 100, total: 100, fraction },
    explanation: `${id} measured something. More detail follows.`,
    evidence: [{ kind: 'k', summary: `${id} evidence` }],
    measurements: {},
    durationMs: 1,
    ...extra,
  };
}

const notApplicable = (id: string, reason: string): DetectorReport => ({
  ...report(id, null),
  applicable: false,
  reason,
  coverage: null,
});

const fuse = (...detectors: DetectorReport[]) => fuseDetectorReports({ intakeFailure: null, detectors });

describe('fuseDetectorReports', () => {
  it('is not analyzable when the media could not be probed', () => {
    const fusion = fuseDetectorReports({
      intakeFailure: 'ffprobe exited with code 1: Invalid data',
      detectors: [],
    });
    expect(fusion).toEqual({
      band: 'not_analyzable',
      reasons: ['the media cannot be analysed: ffprobe exited with code 1: Invalid data'],
      coverage: 0,
    });
  });

  it('is not analyzable when no detector applies, and says why each does not', () => {
    const fusion = fuse(notApplicable('gop', 'no video stream'), notApplicable('faces', 'no faces'));
    expect(fusion.band).toBe('not_analyzable');
    expect(fusion.reasons.join('\n')).toMatch(/gop \(no video stream\); faces \(no faces\)/);
  });

  it('finds indicators when one detector is strong over enough of the media', () => {
    const fusion = fuse(report('gop', 0.82), report('meta', 0.1), notApplicable('faces', 'no faces'));
    expect(fusion.band).toBe('indicators_found');
    expect(fusion.reasons[0]).toBe(
      'gop scored 0.82 (strong at 0.7) over 100% of video packets: gop evidence',
    );
    expect(fusion.reasons).toContain('meta scored 0.10 (low) over 100% of video packets');
  });

  it('does not let a strong score over too little of the media decide', () => {
    const fusion = fuse(report('gop', 0.95, 0.2), report('meta', 0.05));
    expect(fusion.band).toBe('inconclusive');
    expect(fusion.reasons[0]).toBe('gop scored 0.95 but examined only 20% of video packets (needs 50%)');
  });

  it('reports no indicators only when every applicable check ran fully and scored low', () => {
    const fusion = fuse(report('gop', 0.05), report('meta', 0.29), notApplicable('faces', 'no faces'));
    expect(fusion.band).toBe('no_indicators');
    expect(fusion.reasons[0]).toBe(
      'every applicable check scored below 0.3 with adequate coverage: gop 0.05 over 100% of video packets, meta 0.29 over 100% of video packets',
    );
    expect(fusion.coverage).toBe(1);
  });

  it('never reads a failed or abstaining detector as clean', () => {
    const failed = fuse(report('gop', null, 1, { reason: 'detector failed: boom' }), report('meta', 0.0));
    expect(failed.band).toBe('inconclusive');
    expect(failed.reasons[0]).toBe('gop gave no score: detector failed: boom');
    expect(failed.coverage).toBe(0.5);
    const abstained = fuse(report('gop', null, 1, { reason: 'only 12 video packets' }));
    expect(abstained.band).toBe('inconclusive');
  });

  it('is inconclusive in between, naming the detector and its first sentence', () => {
    const fusion = fuse(report('gop', 0.5), report('meta', 0.1));
    expect(fusion.band).toBe('inconclusive');
    expect(fusion.reasons[0]).toBe('gop scored 0.50, between 0.3 and 0.7: gop measured something.');
  });

  it('still reports indicators when another detector failed', () => {
    expect(fuse(report('gop', 0.75), report('meta', null, 1, { reason: 'detector failed: x' })).band).toBe(
      'indicators_found',
    );
  });

  it('averages coverage over applicable detectors, counting a missing score as nothing examined', () => {
    expect(fuse(report('a', 0.1, 1), report('b', 0.1, 0.5), report('c', null)).coverage).toBeCloseTo(0.5, 6);
  });

  describe('weak cues', () => {
    const weak = (score: number) => report('metadata', score, 1, { strength: 'weak' });

    it('do not make a clean result inconclusive: an encoder tag alone leaves no indicators', () => {
      const fusion = fuse(report('gop', 0.0), weak(0.33));
      expect(fusion.band).toBe('no_indicators');
      expect(fusion.reasons[0]).toBe(
        'every applicable check scored below 0.3 with adequate coverage: gop 0.00 over 100% of video packets',
      );
      expect(fusion.reasons[1]).toMatch(/^weak cue, does not set the band: metadata scored 0\.33, between/);
    });

    it('do not raise indicators, however high they score', () => {
      expect(fuse(report('gop', 0.1), weak(0.95)).band).toBe('no_indicators');
      expect(fuse(report('gop', 0.5), weak(0.95)).band).toBe('inconclusive');
    });

    it('are listed beside a strong finding without deciding it', () => {
      const fusion = fuse(report('gop', 0.9), weak(0.0));
      expect(fusion.band).toBe('indicators_found');
      expect(fusion.reasons.at(-1)).toBe(
        'weak cue, does not set the band: metadata scored 0.00 (low) over 100% of video packets',
      );
    });

    it('alone cannot settle a band: inconclusive with the reason, never no indicators', () => {
      const fusion = fuse(weak(0.0), notApplicable('gop', 'a still image has no GOP'));
      expect(fusion.band).toBe('inconclusive');
      expect(fusion.reasons[0]).toBe(
        'only weak cues could be checked on this media, and they cannot settle a band',
      );
    });
  });
});
