import type { components } from '../api/schema.js';

export type Band = components['schemas']['EventsAnalysisStateMessage']['band'] & string;

/** The band in the words every page uses: indicators from these checks, never a verdict on authenticity. */
export const bandWords: Record<Band, string> = {
  indicators_found: 'Manipulation indicators found',
  inconclusive: 'Inconclusive',
  no_indicators: 'No indicators found by these checks',
  not_analyzable: 'Not analyzable',
};

/** The CSS class of a band's badge (styles.css: .band-indicators-found, …). */
export function bandClass(band: Band): string {
  return `band band-${band.replace(/_/g, '-')}`;
}
