/** A span of mono audio samples on the media timeline. */
export interface AudioSpan {
  startSeconds: number;
  sampleRate: number;
  samples: Float32Array;
}

/** Loudness of a span around given times: RMS over `widthSeconds` centred on each, from prefix sums. */
export interface Envelope {
  /** RMS around `timeSeconds`, or null when that stretch is not (wholly) inside the span. */
  at(timeSeconds: number): number | null;
}

export function audioEnvelope(span: AudioSpan, widthSeconds: number): Envelope {
  const squares = new Float64Array(span.samples.length + 1);
  for (let i = 0; i < span.samples.length; i++) squares[i + 1] = squares[i]! + span.samples[i]! ** 2;
  const half = (widthSeconds * span.sampleRate) / 2;
  return {
    at(timeSeconds) {
      const centre = (timeSeconds - span.startSeconds) * span.sampleRate;
      const from = Math.round(centre - half);
      const to = Math.round(centre + half);
      if (from < 0 || to > span.samples.length || to <= from) return null;
      return Math.sqrt((squares[to]! - squares[from]!) / (to - from));
    },
  };
}

/** One dense window: frame times and the visual signal at each (null where it was not measured). */
export interface SignalWindow {
  times: readonly number[];
  values: readonly (number | null)[];
  envelope: Envelope;
}

export interface LagCorrelation {
  lagSeconds: number;
  /** Pearson correlation pooled over the windows (each standardised on its own); null with too few pairs. */
  correlation: number | null;
}

/**
 * Correlation of the visual signal at t with the envelope at t + lag, for lags of whole frame steps over
 * ±maxLagSeconds: a positive lag means the sound comes later than the picture. A lag counts only when at
 * least `minPairShare` of the measured frames have their shifted envelope inside the decoded audio.
 */
export function laggedCorrelations(
  windows: readonly SignalWindow[],
  options: { stepSeconds: number; maxLagSeconds: number; minPairShare: number },
): LagCorrelation[] {
  const steps = Math.round(options.maxLagSeconds / options.stepSeconds);
  const measured = windows.reduce((sum, window) => sum + window.values.filter((v) => v !== null).length, 0);
  const result: LagCorrelation[] = [];
  for (let step = -steps; step <= steps; step++) {
    const lagSeconds = step * options.stepSeconds;
    let products = 0;
    let pairs = 0;
    for (const window of windows) {
      const visual: number[] = [];
      const sound: number[] = [];
      window.times.forEach((time, i) => {
        const value = window.values[i];
        const loudness = window.envelope.at(time + lagSeconds);
        if (value === null || value === undefined || loudness === null) return;
        visual.push(value);
        sound.push(loudness);
      });
      const a = standardised(visual);
      const b = standardised(sound);
      if (!a || !b) continue;
      for (let i = 0; i < a.length; i++) products += a[i]! * b[i]!;
      pairs += a.length;
    }
    const enough = measured > 0 && pairs >= options.minPairShare * measured;
    result.push({ lagSeconds, correlation: enough ? products / pairs : null });
  }
  return result;
}

/** Zero mean, unit variance; null for fewer than 3 values or a constant series. */
export function standardised(values: readonly number[]): number[] | null {
  if (values.length < 3) return null;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  if (!(variance > 1e-12)) return null;
  const sd = Math.sqrt(variance);
  return values.map((v) => (v - mean) / sd);
}

export interface CorrelationPeak {
  /** The best lag, refined between frame steps by a parabola through the peak and its neighbours. */
  lagSeconds: number;
  /** The frame-step lag with the highest correlation. */
  stepLagSeconds: number;
  correlation: number;
  /** Highest correlation at lags farther than the exclusion from the peak; null when there is none. */
  runnerUp: number | null;
  /** The peak sits at an end of the searched lags (the true peak may lie beyond). */
  atEdge: boolean;
}

/** The highest correlation, and the best rival outside ±exclusionSeconds of it. */
export function correlationPeak(
  curve: readonly LagCorrelation[],
  exclusionSeconds: number,
): CorrelationPeak | null {
  const valid = curve.flatMap((point, index) =>
    point.correlation === null ? [] : [{ ...point, correlation: point.correlation, index }],
  );
  if (valid.length === 0) return null;
  const best = valid.reduce((top, point) => (point.correlation > top.correlation ? point : top));
  const rivals = valid.filter(
    (point) => Math.abs(point.lagSeconds - best.lagSeconds) > exclusionSeconds + 1e-9,
  );
  const before = curve[best.index - 1]?.correlation ?? null;
  const after = curve[best.index + 1]?.correlation ?? null;
  const step = curve.length > 1 ? curve[1]!.lagSeconds - curve[0]!.lagSeconds : 0;
  return {
    lagSeconds: best.lagSeconds + parabolicOffset(before, best.correlation, after) * step,
    stepLagSeconds: best.lagSeconds,
    correlation: best.correlation,
    runnerUp: rivals.length ? Math.max(...rivals.map((point) => point.correlation)) : null,
    atEdge: before === null || after === null,
  };
}

/** Vertex of the parabola through three equally spaced points, in steps from the middle one (within ±0.5). */
export function parabolicOffset(before: number | null, peak: number, after: number | null): number {
  if (before === null || after === null) return 0;
  const curvature = before - 2 * peak + after;
  if (!(curvature < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (before - after)) / curvature));
}
