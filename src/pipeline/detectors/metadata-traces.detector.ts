import type { Detector, DetectorContext, DetectorFinding } from '../detector.js';
import {
  brandMismatch,
  creationTimeAnomalies,
  durationMismatch,
  toolTraces,
  unusualLayout,
  type MetadataFinding,
} from './metadata-checks.js';
import { round } from './statistics.js';
import { stillImageFormat } from './still-image.js';

/** Metadata is trivially edited and often stripped: on its own it may raise doubt, never reach the strong band. */
export const metadataScoreCap = 0.6;

export function createMetadataTracesDetector(deps: { now: () => Date }): Detector {
  return {
    id: 'metadata-traces',
    version: '1.2.0',
    needs: ['probe'],
    strength: 'weak',
    description:
      'Container and encoder traces: editing or re-encoding tools named in tags, implausible dates, a container brand the claimed device does not write, disagreeing track lengths.',
    applicable({ probe }) {
      if (probe.streams.length === 0) return { applicable: false, reason: 'the probe found no streams' };
      // An image file has no container tags to speak of; image-metadata reads its EXIF, XMP and ICC.
      if (stillImageFormat(probe) !== null)
        return {
          applicable: false,
          reason: 'a still image has no container tags (image-metadata reads its EXIF and XMP)',
        };
      return { applicable: true };
    },
    analyze: async (context) => analyze(context, deps.now()),
  };
}

function analyze({ probe }: DetectorContext, now: Date): DetectorFinding {
  const findings = [
    ...toolTraces(probe),
    ...brandMismatch(probe),
    ...creationTimeAnomalies(probe, now),
    ...durationMismatch(probe),
    ...unusualLayout(probe),
  ];
  // Independent weak indicators combine like noisy-OR, then the cap keeps metadata below the strong band.
  const combined = 1 - findings.reduce((remaining, finding) => remaining * (1 - finding.weight), 1);
  const score = round(Math.min(metadataScoreCap, combined));
  return {
    score,
    coverage: { unit: 'streams', analysed: probe.streams.length, total: probe.streams.length, fraction: 1 },
    evidence: findings.map(({ weight: _weight, ...evidence }) => evidence),
    explanation: explain(findings),
    measurements: {
      formatName: probe.formatName,
      majorBrand: probe.tags.major_brand ?? null,
      encoderTag: probe.tags.encoder ?? null,
      creationTime: probe.tags.creation_time ?? null,
      findings: findings.length,
      combined: round(combined),
      score,
    },
  };
}

function explain(findings: MetadataFinding[]): string {
  const caveat = 'Metadata is easy to edit or strip, so these are weak indications only.';
  if (findings.length === 0) {
    return `No editing or re-encoding tool is named in the tags, dates are plausible and track lengths agree. ${caveat}`;
  }
  return `${findings.map((finding) => `${finding.summary} (weight ${finding.weight})`).join('; ')}. ${caveat}`;
}
