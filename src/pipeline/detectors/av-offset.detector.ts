import type { MediaProbe } from '../../media/media-probe.js';
import type { Coverage, Detector, DetectorContext, DetectorFinding } from '../detector.js';
import type { DenseWindow, FrameSample } from '../frames/frame-sample.js';
import {
  abstain,
  clamp01,
  faceInputs,
  jsonArtifact,
  median,
  noFaceReason,
  notApplicable,
} from './face-evidence.js';
import {
  audioEnvelope,
  correlationPeak,
  laggedCorrelations,
  type AudioSpan,
  type CorrelationPeak,
  type LagCorrelation,
} from './lagged-correlation.js';
import { apertureSpread, apertureWindows, type ApertureWindow } from './mouth-aperture.js';
import { round } from './statistics.js';
import { isStillImage, primaryVideoStream } from './video-stream.js';

export const avOffsetLimits = {
  /** Lags searched either way. */
  maxLagSeconds: 1,
  /** Audio decoded for the envelope (speech loudness needs no more). */
  sampleRate: 8000,
  /** Mouth opening must vary at least this much (of the eye-corner distance) between its 10th and 90th percentile. */
  minApertureSpread: 0.04,
  /** Below this RMS (−50 dBFS) the audio is taken as silent. */
  silenceRms: 10 ** (-50 / 20),
  /** Loudness must vary (standard deviation over mean, per frame) at least this much to be speech-like. */
  minLoudnessModulation: 0.3,
  /** Quieter than this (−70 dBFS) is digital silence: at a span's ends, where the track has no samples, it is not modulation. */
  digitalSilenceRms: 10 ** (-70 / 20),
  minPeakCorrelation: 0.5,
  /** The peak must beat every lag farther than `rivalExclusionSeconds` from it by this much. */
  minPeakMargin: 0.15,
  rivalExclusionSeconds: 0.15,
  /** Shares of the measured frames whose shifted loudness must be inside the decoded audio. */
  minPairShare: 0.8,
};

/** Offsets up to 120 ms score 0 (natural and unmeasurable), 240 ms and more score 1. */
export function avOffsetScore(lagSeconds: number): number {
  return round(clamp01((Math.abs(lagSeconds) - 0.12) / 0.12));
}

const limitsNote =
  'It compares how far the mouth opens with how loud the sound is, over the dense windows only, so it sees gross offsets (about 150 ms or more) and nothing finer: it cannot see small lip-sync errors, dubbing or a re-voiced track that follows the lips, nor lips generated to match the audio.';

/**
 * Audio against picture: the mouth's opening over the dense windows' consecutive frames, cross-correlated
 * with the sound's loudness at lags up to ±1 s. A clear best match far from zero means the sound was moved.
 */
export function createAvOffsetDetector(): Detector {
  return {
    id: 'av-offset',
    version: '1.0.0',
    needs: ['frames', 'faces', 'audio'],
    strength: 'standard',
    description:
      'Gross audio–video offset: the lag at which the speaking mouth’s opening best matches the loudness of the sound.',
    applicable({ probe }) {
      const video = primaryVideoStream(probe);
      if (!video || isStillImage(probe, video))
        return { applicable: false, reason: 'the media has no moving picture' };
      if (!firstAudioStream(probe)) return { applicable: false, reason: 'the media has no audio stream' };
      return { applicable: true };
    },
    async analyze(context) {
      const inputs = await faceInputs(context);
      const noFace = noFaceReason(inputs);
      if (noFace) return notApplicable(noFace);
      const { sample } = inputs;
      const windowFrames = sample.windows.reduce((sum, window) => sum + window.frameIndexes.length, 0);
      const step = frameStep(sample);
      if (windowFrames === 0 || step === null)
        return abstain('no dense window of consecutive frames was decoded', coverageOf(0, 0));
      const frameTime = (index: number) => sample.frames[index]!.timeSeconds;
      const speaker = inputs.analysed
        .map((track) => ({ track, windows: apertureWindows(track, sample.windows, frameTime) }))
        .map((entry) => ({ ...entry, spread: apertureSpread(entry.windows) }))
        .reduce((top, entry) => (entry.spread > top.spread ? entry : top));
      const measured = speaker.windows.flatMap((w) => w.apertures).filter((a) => a !== null).length;
      const coverage = coverageOf(measured, windowFrames);
      const base = {
        trackId: speaker.track.id,
        apertureSpread: round(speaker.spread),
        frameStepSeconds: round(step),
      };
      if (speaker.spread < avOffsetLimits.minApertureSpread)
        return withMeasurements(
          notApplicable(
            `no speaking mouth: the mouth barely moves in the dense windows (its opening varies by ${round(speaker.spread)} of the eye-corner distance; ${avOffsetLimits.minApertureSpread} is needed to match it against the sound)`,
          ),
          base,
        );
      const spans = await decodeSpans(context, sample.windows, step);
      const loudness = spanLoudness(spans, step);
      const heard = {
        ...base,
        audioRmsDbfs: round(20 * Math.log10(Math.max(loudness.rms, 1e-10))),
        loudnessModulation: round(loudness.modulation),
      };
      if (loudness.rms < avOffsetLimits.silenceRms)
        return withMeasurements(
          notApplicable(`no sound to match: the audio is silent in the windows (${heard.audioRmsDbfs} dBFS)`),
          heard,
        );
      if (loudness.modulation < avOffsetLimits.minLoudnessModulation)
        return withMeasurements(
          notApplicable(
            `no speech-like sound: its loudness hardly varies (modulation ${heard.loudnessModulation}, ${avOffsetLimits.minLoudnessModulation} needed), so there is no rhythm to match the mouth against`,
          ),
          heard,
        );
      const curve = laggedCorrelations(
        speaker.windows.map((window, i) => ({
          times: window.times,
          values: window.apertures,
          envelope: audioEnvelope(spans[i]!, step),
        })),
        {
          stepSeconds: step,
          maxLagSeconds: avOffsetLimits.maxLagSeconds,
          minPairShare: avOffsetLimits.minPairShare,
        },
      );
      const peak = correlationPeak(curve, avOffsetLimits.rivalExclusionSeconds);
      const artifacts = [timelineArtifact(curve, speaker.windows)];
      const unclear = peak ? indistinctPeak(peak) : 'no lag had enough frames with audio around them';
      const found = peak ? { ...heard, ...peakMeasurements(peak) } : heard;
      if (unclear || !peak)
        return {
          ...withMeasurements(abstain(`${unclear}; the offset cannot be told`, coverage), found),
          artifacts,
        };
      const score = avOffsetScore(peak.lagSeconds);
      const lagMs = Math.round(peak.lagSeconds * 1000);
      return {
        score,
        coverage,
        evidence: [
          {
            kind: 'av-offset',
            summary: `${lagText(lagMs)} (correlation ${round(peak.correlation)}; best lag farther than ${avOffsetLimits.rivalExclusionSeconds * 1000} ms from it: ${peak.runnerUp === null ? 'none' : round(peak.runnerUp)}), face track ${speaker.track.id}`,
            timeSeconds: sample.windows[0]!.startSeconds,
            data: { trackId: speaker.track.id, lagMs, correlation: round(peak.correlation) },
          },
        ],
        explanation: `${lagText(lagMs)}: ${score >= 0.7 ? 'a gross offset, as when the audio track was shifted against the picture' : score > 0 ? 'a small offset, near what can be natural' : 'in step within what this check can tell'}. ${limitsNote}`,
        measurements: found,
        artifacts,
      };
    },
  };
}

function firstAudioStream(probe: MediaProbe) {
  return probe.streams.find((stream) => stream.type === 'audio') ?? null;
}

/** The frame interval: the median gap between consecutive window frames. */
function frameStep(sample: FrameSample): number | null {
  const gaps = sample.windows.flatMap((window) =>
    window.frameIndexes
      .slice(1)
      .map(
        (index, i) => sample.frames[index]!.timeSeconds - sample.frames[window.frameIndexes[i]!]!.timeSeconds,
      ),
  );
  const step = gaps.length ? median(gaps) : 0;
  return step > 0 ? step : null;
}

/** Each window's audio with the whole lag range (plus a frame) either side; only these spans are decoded. */
async function decodeSpans(
  context: DetectorContext,
  windows: readonly DenseWindow[],
  step: number,
): Promise<AudioSpan[]> {
  const stream = firstAudioStream(context.probe)!;
  const end = context.probe.durationSeconds ?? stream.durationSeconds ?? Number.POSITIVE_INFINITY;
  const reach = avOffsetLimits.maxLagSeconds + step;
  const { sampleRate } = avOffsetLimits;
  return Promise.all(
    windows.map(async (window) => {
      const startSeconds = Math.max(0, window.startSeconds - reach);
      const durationSeconds = Math.max(0, Math.min(end, window.endSeconds + reach) - startSeconds);
      const samples = await context.mediaTools.audio(
        context.input,
        { streamIndex: stream.index, startSeconds, durationSeconds, sampleRate },
        context.signal,
      );
      return { startSeconds, sampleRate, samples };
    }),
  );
}

/** RMS of the spans, and how much their per-frame loudness varies (standard deviation over mean), digital silence at their ends left out. */
function spanLoudness(spans: readonly AudioSpan[], step: number): { rms: number; modulation: number } {
  let squares = 0;
  let count = 0;
  const frames: number[] = [];
  for (const span of spans) {
    for (const sample of span.samples) squares += sample * sample;
    count += span.samples.length;
    const envelope = audioEnvelope(span, step);
    const seconds = span.samples.length / span.sampleRate;
    const levels: number[] = [];
    for (let t = step / 2; t + step / 2 <= seconds; t += step)
      levels.push(envelope.at(span.startSeconds + t) ?? 0);
    // A delayed track's silent lead-in (or a track ending early) would otherwise read as one big loudness swing.
    const sounding = (level: number) => level >= avOffsetLimits.digitalSilenceRms;
    const first = levels.findIndex(sounding);
    const last = levels.findLastIndex(sounding);
    if (first >= 0) frames.push(...levels.slice(first, last + 1));
  }
  const mean = frames.reduce((sum, v) => sum + v, 0) / Math.max(1, frames.length);
  const sd = Math.sqrt(frames.reduce((sum, v) => sum + (v - mean) ** 2, 0) / Math.max(1, frames.length));
  return { rms: count ? Math.sqrt(squares / count) : 0, modulation: mean > 0 ? sd / mean : 0 };
}

/** Why the peak does not single out one lag, or null when it does. */
function indistinctPeak(peak: CorrelationPeak): string | null {
  const { minPeakCorrelation, minPeakMargin, maxLagSeconds } = avOffsetLimits;
  if (peak.atEdge) return `the best match lies at the ±${maxLagSeconds} s end of the lags searched`;
  if (peak.correlation < minPeakCorrelation)
    return `mouth and sound match weakly at every lag (best correlation ${round(peak.correlation)}, ${minPeakCorrelation} needed)`;
  if (peak.runnerUp !== null && peak.correlation - peak.runnerUp < minPeakMargin)
    return `no lag stands out (best correlation ${round(peak.correlation)}, another lag reaches ${round(peak.runnerUp)})`;
  return null;
}

function peakMeasurements(peak: CorrelationPeak) {
  return {
    lagMs: Math.round(peak.lagSeconds * 1000),
    stepLagMs: Math.round(peak.stepLagSeconds * 1000),
    peakCorrelation: round(peak.correlation),
    runnerUpCorrelation: peak.runnerUp === null ? null : round(peak.runnerUp),
  };
}

function lagText(lagMs: number): string {
  if (lagMs === 0) return 'The mouth best matches the sound with no offset';
  return `The mouth best matches the sound ${Math.abs(lagMs)} ms ${lagMs > 0 ? 'later' : 'earlier'} (the audio ${lagMs > 0 ? 'lags' : 'leads'} the picture)`;
}

function coverageOf(analysed: number, total: number): Coverage {
  return { unit: 'dense-window frames', analysed, total, fraction: total ? round(analysed / total) : 0 };
}

function withMeasurements(
  finding: DetectorFinding,
  measurements: DetectorFinding['measurements'],
): DetectorFinding {
  return { ...finding, measurements, explanation: `${finding.explanation} ${limitsNote}` };
}

function timelineArtifact(curve: readonly LagCorrelation[], windows: readonly ApertureWindow[]) {
  return jsonArtifact(
    'lag-correlation.json',
    'Correlation of mouth opening with loudness at each lag (ms, positive: sound later), and the mouth opening per window frame.',
    {
      lags: curve.map((point) => ({
        lagMs: Math.round(point.lagSeconds * 1000),
        correlation: point.correlation === null ? null : round(point.correlation),
      })),
      windows: windows.map((window) => ({
        windowId: window.windowId,
        times: window.times.map(round),
        apertures: window.apertures.map((a) => (a === null ? null : round(a))),
      })),
    },
  );
}
