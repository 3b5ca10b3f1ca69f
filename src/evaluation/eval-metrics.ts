import type { Band } from '../pipeline/report.js';
import type { ItemResult } from './eval-run.js';
import { rocAuc } from './roc-auc.js';
import { setLabel, type EvalItem, type ItemKind } from './synthetic-set.js';

/** Band order for the fused AUC; not_analyzable has no place in it and is counted apart. */
export const bandRank: Partial<Record<Band, number>> = {
  no_indicators: 0,
  inconclusive: 1,
  indicators_found: 2,
};

export interface AucEntry {
  auc: number | null;
  /** Manipulated and authentic items that had a value. */
  positives: number;
  negatives: number;
  /** Items left out: no score, not_analyzable or an error. */
  missing: number;
}

export interface KindMetrics {
  kind: ItemKind;
  media: 'video' | 'image' | 'all';
  fusedBand: AucEntry;
  fusedScore: AucEntry | null;
  detectors: (AucEntry & { detector: string })[];
}

export interface EvalMetrics {
  label: typeof setLabel;
  items: number;
  kinds: KindMetrics[];
  authentic: { items: number; indicatorsFound: number; rate: number | null };
  faces: { found: number; notFound: number; unknown: number; rate: number | null };
  notAnalyzable: number;
  errors: number;
}

/**
 * ROC-AUC per manipulation kind (each kind's items against the authentic twins they were made from),
 * over all media and per media type; how often authentic items were marked indicators_found; the face-found rate.
 */
export function computeMetrics(items: readonly EvalItem[], results: readonly ItemResult[]): EvalMetrics {
  const byId = new Map(results.map((result) => [result.id, result]));
  const kinds = [...new Set(items.flatMap((item) => (item.kind ? [item.kind] : [])))];
  const metrics: KindMetrics[] = [];
  for (const kind of kinds) {
    const manipulated = items.filter((item) => item.kind === kind);
    const groups = [
      ['all', manipulated],
      ['video', manipulated.filter((item) => item.media === 'video')],
      ['image', manipulated.filter((item) => item.media === 'image')],
    ] as const;
    for (const [media, group] of groups) {
      if (group.length === 0 || (media !== 'all' && group.length === manipulated.length)) continue;
      const twins = [...new Set(group.map((item) => item.twinOf))].flatMap((id) =>
        items.filter((item) => item.id === id),
      );
      metrics.push(kindMetrics(kind, media, resultsOf(group, byId), resultsOf(twins, byId)));
    }
  }
  const authentic = resultsOf(
    items.filter((item) => item.label === 'authentic'),
    byId,
  );
  const indicatorsFound = authentic.filter((result) => result.band === 'indicators_found').length;
  const all = resultsOf(items, byId);
  const found = all.filter((result) => result.faceFound === true).length;
  const notFound = all.filter((result) => result.faceFound === false).length;
  return {
    label: setLabel,
    items: items.length,
    kinds: metrics,
    authentic: {
      items: authentic.length,
      indicatorsFound,
      rate: authentic.length ? indicatorsFound / authentic.length : null,
    },
    faces: {
      found,
      notFound,
      unknown: all.length - found - notFound,
      rate: found + notFound ? found / (found + notFound) : null,
    },
    notAnalyzable: all.filter((result) => result.band === 'not_analyzable').length,
    errors: all.filter((result) => result.error !== undefined).length,
  };
}

function kindMetrics(
  kind: ItemKind,
  media: KindMetrics['media'],
  positives: ItemResult[],
  negatives: ItemResult[],
): KindMetrics {
  const band = (result: ItemResult) => (result.band === null ? null : (bandRank[result.band] ?? null));
  const fusedScore = aucOf(positives, negatives, (result) => result.fusedScore);
  const detectorIds = [
    ...new Set([...positives, ...negatives].flatMap((result) => Object.keys(result.detectors))),
  ].sort();
  return {
    kind,
    media,
    fusedBand: aucOf(positives, negatives, band),
    fusedScore: fusedScore.positives + fusedScore.negatives > 0 ? fusedScore : null,
    detectors: detectorIds.map((detector) => ({
      detector,
      ...aucOf(positives, negatives, (result) => result.detectors[detector] ?? null),
    })),
  };
}

function aucOf(
  positives: readonly ItemResult[],
  negatives: readonly ItemResult[],
  value: (result: ItemResult) => number | null,
): AucEntry {
  const values = (results: readonly ItemResult[]) =>
    results.map(value).filter((entry): entry is number => entry !== null);
  const p = values(positives);
  const n = values(negatives);
  return {
    auc: rocAuc(p, n),
    positives: p.length,
    negatives: n.length,
    missing: positives.length + negatives.length - p.length - n.length,
  };
}

function resultsOf(items: readonly EvalItem[], byId: Map<string, ItemResult>): ItemResult[] {
  return items.flatMap((item) => {
    const result = byId.get(item.id);
    return result ? [result] : [];
  });
}
