/** Issue 6's targets: memory in MiB, start-up in seconds. The bench prints every figure beside its target. */
export const targets = {
  embeddedFirstStartPeakMiB: 450,
  embeddedIdleMiB: 300,
  scaledIdleMiB: 160,
  uploadAddedMiB: 100,
  helpSeconds: 0.4,
  analyzeStartupSeconds: 0.6,
  /** Issue 11's P4: cached report GET req/s ÷ a bare Fastify hello route's, at least. */
  cachedReportRatio: 0.4,
  /** ... and its p99 latency at half that load, below (ms). */
  halfLoadP99Ms: 20,
} as const;

/** "measured / ≥ target" and whether it is met (a figure that must reach its target). */
export function atLeastTarget(measured: number, target: number, digits: number): [string, string] {
  if (Number.isNaN(measured)) return [`n/a / ≥ ${target}`, ''];
  return [`${measured.toFixed(digits)} / ≥ ${target}`, measured >= target ? 'met' : 'MISSED'];
}

/** "measured / < target" and whether it is met (a figure that must stay under its target). */
export function belowTarget(measured: number, target: number, digits: number): [string, string] {
  if (Number.isNaN(measured)) return [`n/a / < ${target}`, ''];
  return [`${measured.toFixed(digits)} / < ${target}`, measured < target ? 'met' : 'MISSED'];
}

/** "measured / ≤ target" and whether it is met; a missing figure is neither. */
export function againstTarget(measured: number | null, target: number, digits: number): [string, string] {
  if (measured === null || Number.isNaN(measured)) return [`n/a / ≤ ${target}`, ''];
  return [`${measured.toFixed(digits)} / ≤ ${target}`, measured <= target ? 'met' : 'MISSED'];
}
