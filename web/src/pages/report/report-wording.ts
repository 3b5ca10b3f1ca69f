import type { DetectorReport, CalibrationVersion } from './report-shape.js';

/*
 * Numbers in words a reader cannot mistake for a verdict: scores stay on their 0–1 scale, placements are
 * counted against the reference, and only a calibrated probability is ever shown as a percentage.
 */

export function scoreWords(score: number): string {
  return `${score.toFixed(2)} on a scale from 0 to 1 (higher means a stronger indication of manipulation)`;
}

/** Where the score falls among this check's scores on the reference media; null without a placement. */
export function placementWords(
  percentile: number | null | undefined,
  calibration: CalibrationVersion | null,
): string | null {
  if (percentile === null || percentile === undefined) return null;
  const share = Math.round(percentile);
  const reference =
    calibration?.projectDefault === false
      ? 'the reference media of this installation'
      : 'the synthetic reference media made by this project (not camera footage)';
  if (share <= 0) return `Not higher than any score of this check on ${reference}.`;
  if (share >= 100) return `Higher than every score of this check on ${reference}.`;
  return `Higher than ${share} in 100 scores of this check on ${reference}.`;
}

/** Only a probability the calibration fitted on labelled media is a percentage. */
export function probabilityWords(probability: number | null | undefined): string | null {
  if (probability === null || probability === undefined) return null;
  return `Calibrated probability of manipulation: ${Math.round(probability * 100)}%.`;
}

export function coverageWords(coverage: DetectorReport['coverage']): string | null {
  if (!coverage) return null;
  return `Examined ${formatCount(coverage.analysed)} of ${formatCount(coverage.total)} ${coverage.unit}.`;
}

/** The report's overall share (0–1) of the media the applicable checks looked at. */
export function overallCoverageWords(coverage: number | null): string {
  if (coverage === null) return 'Not known.';
  if (coverage >= 0.995) return 'The applicable checks examined all of the media they can read.';
  if (coverage <= 0.005) return 'The applicable checks examined almost none of the media.';
  return `The applicable checks examined about ${coverage.toFixed(2)} of the media (1 would be all of it).`;
}

/**
 * The report's own texts, worded without the word this app never uses: no set of checks can establish that
 * media is genuine, so the page says "genuine" where a detector's text says more than it can.
 */
export function withoutVerdictWords(text: string): string {
  return text.replace(/authenticity/gi, 'genuineness').replace(/authentic/gi, 'genuine');
}

export function formatCount(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(2);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1_000_000) return `${(bitsPerSecond / 1_000_000).toFixed(2)} Mbit/s`;
  return `${(bitsPerSecond / 1000).toFixed(0)} kbit/s`;
}

/** A pipeline stage in words: `detector:face-temporal` → "check face-temporal". */
export function stageWords(stage: string | null): string {
  if (!stage) return 'waiting to start';
  if (stage.startsWith('detector:')) return `check ${stage.slice('detector:'.length)}`;
  const words: Record<string, string> = {
    start: 'starting',
    probe: 'reading the file',
    frames: 'decoding frames',
    faces: 'finding faces',
    preliminary: 'early band from the first checks',
    fusion: 'combining the checks',
    report: 'writing the report',
  };
  return words[stage] ?? stage;
}
