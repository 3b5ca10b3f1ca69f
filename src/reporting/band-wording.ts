/**
 * The report's `band` values (the pipeline's `Band`; a test keeps the two equal). Declared here, not imported,
 * so the web app can import this file without type-checking the pipeline's Node modules.
 */
export type Band = 'indicators_found' | 'inconclusive' | 'no_indicators' | 'not_analyzable';

/**
 * The words every reader-facing surface (PDF report, web app) uses for a band. Free of imports, so the
 * browser bundle can take it as is. Never "authentic": the most checks can say is that they found nothing.
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
