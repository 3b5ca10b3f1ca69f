import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Band as PipelineBand } from '../../src/pipeline/report.js';
import { bandMeanings, bandWords, type Band } from '../../src/reporting/band-wording.js';

describe('band wording shared by the PDF report and the web app', () => {
  it('covers exactly the bands the pipeline writes', () => {
    expectTypeOf<Band>().toEqualTypeOf<PipelineBand>();
  });

  it('uses the fixed words, never "authentic" and never a percentage', () => {
    expect(bandWords).toEqual({
      indicators_found: 'Manipulation indicators found',
      inconclusive: 'Inconclusive',
      no_indicators: 'No indicators found by these checks',
      not_analyzable: 'Not analyzable',
    });
    const all = [...Object.values(bandWords), ...Object.values(bandMeanings)].join(' ');
    expect(all).not.toMatch(/authentic/i);
    expect(all).not.toContain('%');
  });
});
