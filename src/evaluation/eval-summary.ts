import type { AucEntry, EvalMetrics } from './eval-metrics.js';

/** The eval's figures as plain text, labelled as measured on synthetic manipulations. */
export function formatMetrics(
  metrics: EvalMetrics,
  context: { seed: number; sources: string[]; plan: string },
): string {
  const lines = [
    `guardian eval: ${metrics.label} (${context.plan} set, seed ${context.seed}, ${metrics.items} items from ${context.sources.join(', ')})`,
    'Measured on synthetic manipulations of a few sample photos, not on real-world media. AUC: chance that a manipulated item ranks above its authentic twin (0.5 = no separation).',
    '',
  ];
  for (const kind of metrics.kinds) {
    lines.push(`${kind.kind} [${kind.media}]`);
    lines.push(
      `  fused band (no_indicators < inconclusive < indicators_found): ${formatAuc(kind.fusedBand)}`,
    );
    if (kind.fusedScore) lines.push(`  fused score: ${formatAuc(kind.fusedScore)}`);
    for (const detector of kind.detectors) lines.push(`  ${detector.detector}: ${formatAuc(detector)}`);
  }
  const { authentic, faces } = metrics;
  lines.push(
    '',
    `authentic items marked indicators_found: ${authentic.indicatorsFound}/${authentic.items}${authentic.rate === null ? '' : ` (${percent(authentic.rate)})`}`,
    faces.rate === null
      ? `faces found: unknown (no report of the ${metrics.items} items says anything about faces)`
      : `faces found: ${faces.found}/${faces.found + faces.notFound} (${percent(faces.rate)})${faces.unknown ? `, ${faces.unknown} reports silent on faces` : ''}`,
    `not_analyzable: ${metrics.notAnalyzable}; analysis errors: ${metrics.errors}`,
  );
  return lines.join('\n');
}

function formatAuc(entry: AucEntry): string {
  const auc = entry.auc === null ? 'n/a' : entry.auc.toFixed(3);
  const missing = entry.missing ? `, ${entry.missing} without a value` : '';
  return `AUC ${auc} (${entry.positives} manipulated / ${entry.negatives} authentic${missing})`;
}

const percent = (fraction: number) => `${(fraction * 100).toFixed(1)}%`;
