import { describe, expect, it } from 'vitest';
import { withoutNulCharacters } from '../../src/pipeline/report-text.js';

describe('withoutNulCharacters', () => {
  it('replaces NUL in every string, key and array item, and leaves the rest as it is', () => {
    const report = {
      band: 'no_indicators',
      reasons: ['comment "Lavc59\u0000"', 'plain'],
      detectors: [
        { id: 'image-metadata', score: 0.1, evidence: [{ data: { 'key\u0000': 'a\u0000b\u0000' } }] },
      ],
      coverage: 1,
      faces: null,
      flag: true,
    };
    const clean = withoutNulCharacters(report);
    expect(clean).toEqual({
      band: 'no_indicators',
      reasons: ['comment "Lavc59\uFFFD"', 'plain'],
      detectors: [
        { id: 'image-metadata', score: 0.1, evidence: [{ data: { 'key\uFFFD': 'a\uFFFDb\uFFFD' } }] },
      ],
      coverage: 1,
      faces: null,
      flag: true,
    });
    expect(JSON.stringify(clean)).not.toContain('\\u0000');
    expect(report.reasons[0]).toContain('\u0000');
  });
});
