import { describe, expect, it } from 'vitest';
import { bandClass, bandWords, type Band } from '../../web/src/components/band-words.js';
import {
  coverageWords,
  overallCoverageWords,
  placementWords,
  probabilityWords,
  scoreWords,
  stageWords,
  withoutVerdictWords,
} from '../../web/src/pages/report/report-wording.js';

const bands: Band[] = ['indicators_found', 'inconclusive', 'no_indicators', 'not_analyzable'];

describe('the band in words', () => {
  it('gives every band of the report its exact words and badge class', () => {
    expect(bandWords).toEqual({
      indicators_found: 'Manipulation indicators found',
      inconclusive: 'Inconclusive',
      no_indicators: 'No indicators found by these checks',
      not_analyzable: 'Not analyzable',
    });
    expect(bands.map(bandClass)).toEqual([
      'band band-indicators-found',
      'band band-inconclusive',
      'band band-no-indicators',
      'band band-not-analyzable',
    ]);
  });

  it('never says "authentic"', () => {
    for (const words of Object.values(bandWords)) expect(words).not.toMatch(/authentic/i);
  });
});

describe('numbers on the report page', () => {
  it('keeps raw scores on their 0–1 scale, never as a percentage', () => {
    expect(scoreWords(0.325)).toBe(
      '0.33 on a scale from 0 to 1 (higher means a stronger indication of manipulation)',
    );
    expect(scoreWords(0.325)).not.toContain('%');
  });

  it('places a score among the reference scores in counts, naming what the reference is', () => {
    const projectDefault = { projectDefault: true, source: 'default' };
    expect(placementWords(62.4, projectDefault)).toBe(
      'Higher than 62 in 100 scores of this check on the synthetic reference media made by this project (not camera footage).',
    );
    expect(placementWords(0, projectDefault)).toMatch(/^Not higher than any score/);
    expect(placementWords(100, null)).toMatch(/^Higher than every score/);
    expect(placementWords(50, { projectDefault: false, source: '/etc/cal.json' })).toMatch(
      /reference media of this installation\.$/,
    );
    expect(placementWords(null, projectDefault)).toBeNull();
    expect(placementWords(undefined, projectDefault)).toBeNull();
    expect(placementWords(62.4, projectDefault)).not.toContain('%');
  });

  it('shows a percentage only for a calibrated probability the report carries', () => {
    expect(probabilityWords(0.126)).toBe('Calibrated probability of manipulation: 13%.');
    expect(probabilityWords(null)).toBeNull();
    expect(probabilityWords(undefined)).toBeNull();
  });

  it('states coverage as counts of what was examined', () => {
    expect(coverageWords({ unit: 'video packets', analysed: 100, total: 120, fraction: 0.83 })).toBe(
      'Examined 100 of 120 video packets.',
    );
    expect(coverageWords(null)).toBeNull();
    expect(overallCoverageWords(1)).toMatch(/all of the media/);
    expect(overallCoverageWords(0.666)).toBe(
      'The applicable checks examined about 0.67 of the media (1 would be all of it).',
    );
    expect(overallCoverageWords(0)).toMatch(/almost none/);
    expect(overallCoverageWords(null)).toBe('Not known.');
  });

  it('rewords report texts that would claim more than checks can', () => {
    expect(
      withoutVerdictWords('their absence says nothing about authenticity; Authentic media may lack them'),
    ).toBe('their absence says nothing about genuineness; genuine media may lack them');
    expect(withoutVerdictWords('no C2PA manifest')).toBe('no C2PA manifest');
  });

  it('names pipeline stages in words', () => {
    expect(stageWords('detector:face-temporal')).toBe('check face-temporal');
    expect(stageWords('frames')).toBe('decoding frames');
    expect(stageWords(null)).toBe('waiting to start');
    expect(stageWords('something-new')).toBe('something-new');
  });
});
