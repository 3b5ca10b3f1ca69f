import type { Band } from '../pipeline/report.js';

/**
 * The words every reader-facing surface (PDF report, web app) uses for a band. Kept free of Node imports so
 * the browser bundle can import it. Never "authentic": the most checks can say is that they found nothing.
 */
export const bandWords: Readonly<Record<Band, string>> = {
  indicators_found: 'Manipulation indicators found',
  inconclusive: 'Inconclusive',
  no_indicators: 'No indicators found by these checks',
  not_analyzable: 'Not analyzable',
};

/** One sentence under the band words: what the band does and does not say. */
export const bandMeanings: Readonly<Record<Band, string>> = {
  indicators_found:
    'At least one check measured a signal of editing or synthesis strongly enough, on enough of the media, to report it.',
  inconclusive: 'The checks that apply could not settle either way: read the reasons and each check below.',
  no_indicators:
    'The checks that apply found nothing; this does not show that the media is unaltered, only that these checks saw no signs.',
  not_analyzable: 'No check could judge this media: the reasons say why.',
};

/** Shown with every report: bands are indications, and scores are not probabilities. */
export const bandDisclaimer =
  'Bands are indications from specific, explainable checks, not proof. Scores are not probabilities; a probability is shown only where calibration data for that check exists.';

export function bandWordsFor(band: Band): string {
  return bandWords[band];
}
