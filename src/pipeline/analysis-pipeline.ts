import { createHash } from 'node:crypto';
import { ProxyTracerProvider, type Tracer } from '@opentelemetry/api';
import type { MediaInput, MediaProbe, MediaTools } from '../media/media-probe.js';
import { createArtifactCollector, type ArtifactSink } from './artifact-collector.js';
import type { Calibration } from './calibration.js';
import { compressionProfile } from './compression-profile.js';
import type { Detector, DetectorContext } from './detector.js';
import { runDetector, type DetectorOutcome } from './detector-runner.js';
import { traceDetectorRun } from './detector-span.js';
import { primaryVideoStream } from './detectors/video-stream.js';
import { defaultFusionPolicy, fuseDetectorReports, type FusionPolicy } from './fusion.js';
import { MediaIntakeRefusal, type IntakeResult, type MediaIntakeCheck } from './media-intake.js';
import type { FaceAnalysis } from '../faces/face-types.js';
import type { AnalysisReport, Band, DetectorReport, FaceTrackReport } from './report.js';
import { withoutNulCharacters } from './report-text.js';
import { createRunInputs, type FaceFinder, type FrameSampler } from './run-inputs.js';
import { withSharedPackets } from './shared-media-tools.js';
import type { DetectorFlagDecision } from '../flags/detector-flags.js';

export const reportDisclaimer =
  'Bands are indications from specific, explainable checks, not proof. "No indicators found" means these checks found nothing; it does not prove that the media is unaltered. Scores are not probabilities.';

export interface AnalysisPipelineDeps {
  mediaTools: MediaTools;
  detectors: readonly Detector[];
  /** Checked before any detector: a verdict needs media that is present and decodes. */
  intake: MediaIntakeCheck;
  frameSampler: FrameSampler;
  faceFinder: FaceFinder;
  clock?: () => Date;
  fusionPolicy?: FusionPolicy;
  /** Reference scores for percentiles (and probabilities); null or absent: none shown. */
  calibration?: Calibration | null;
  /** Each detector run becomes a span under the active one (the job's); absent: nothing is traced. */
  tracer?: Tracer;
}

export interface AnalysisRunRequest {
  input: MediaInput;
  /** The media's SHA-256, or its hash still being computed (awaited for the report only). */
  sha256: string | Promise<string>;
  sizeBytes: number;
  /** A probe taken earlier (at upload); the media is then not probed again (its limits are checked again). */
  probe?: MediaProbe;
  signal: AbortSignal;
  /**
   * Called when a stage starts and when it finishes, with the share of stages done (0–1); awaited, one call
   * at a time, in order. Stages: `probe`, `frames`, `faces`, `detector:<id>` (detectors run together, so
   * several may be started at once), `preliminary`, `fusion`, `report`.
   */
  onProgress?: (stage: string, progress: number, phase: StagePhase) => void | Promise<void>;
  /**
   * Called once, before the final band, with the band fused from the detectors that decode no pictures
   * (container metadata, the packet table), while the others still run; not called when no detector is
   * left to run. It is an early indication only: the report's band is the one that counts.
   */
  onPreliminary?: (preliminary: PreliminaryBand) => void | Promise<void>;
  /**
   * Receives the bytes of each artifact the report lists as kept, in report order (awaited); the report
   * itself carries only their listing. Without it the bytes are discarded.
   */
  onArtifact?: ArtifactSink;
  /**
   * Feature flag decisions for this analysis's organisation: a detector whose decision is off does not run
   * (reported not applicable, saying so); every decision is recorded in `versions.featureFlags`.
   */
  detectorFlags?: readonly DetectorFlagDecision[];
}

export type StagePhase = 'started' | 'finished';

/** A band published before the report's, from the detectors that finished first; never the stored band. */
export interface PreliminaryBand {
  preliminary: true;
  band: Band;
  reasons: string[];
  /** The detectors it fuses. */
  detectors: string[];
  /** The detectors still running, whose results the final band adds. */
  pending: string[];
}

export interface AnalysisPipeline {
  /** Derived from detector ids and versions and the fusion policy: any change gives a new version. */
  readonly version: string;
  run(request: AnalysisRunRequest): Promise<AnalysisReport>;
}

export function createAnalysisPipeline(deps: AnalysisPipelineDeps): AnalysisPipeline {
  const clock = deps.clock ?? (() => new Date());
  const policy = deps.fusionPolicy ?? defaultFusionPolicy;
  const version = pipelineVersion(deps.detectors, policy);
  const tracer = deps.tracer ?? new ProxyTracerProvider().getTracer('secureai-guardian');
  const detectorVersions = Object.fromEntries(
    deps.detectors.map((detector) => [detector.id, detector.version]),
  );

  async function run(request: AnalysisRunRequest): Promise<AnalysisReport> {
    const { signal } = request;
    const switchedOff = new Map(
      (request.detectorFlags ?? []).filter((decision) => !decision.enabled).map((d) => [d.detectorId, d]),
    );
    const running = deps.detectors.filter((detector) => !switchedOff.has(detector.id));
    const progress = createProgress(request, running.length + 2);
    await progress.start('probe');
    const mediaTools = withSharedPackets(deps.mediaTools);
    const intake = await checkIntake(deps.intake, mediaTools, request);
    await progress.finish('probe');
    const inputs = intake.result
      ? createRunInputs(
          deps,
          {
            input: request.input,
            probe: intake.result.probe,
            sizeBytes: request.sizeBytes,
            signal,
            keyframeTimes: primaryKeyframeTimes(intake.result),
          },
          { onStage: (stage, phase) => progress.mark(stage, phase) },
        )
      : null;
    let detectors: DetectorReport[];
    if (intake.result && inputs) {
      const context: DetectorContext = {
        input: request.input,
        sizeBytes: request.sizeBytes,
        probe: intake.result.probe,
        mediaTools,
        signal,
        ...inputs,
      };
      const outcomes = await runDetectors(running, context, progress, tracer, async (early) => {
        const fused = fuseDetectorReports({ intakeFailure: null, detectors: early.done }, policy);
        await progress.start('preliminary');
        await request.onPreliminary?.({
          preliminary: true,
          band: fused.band,
          reasons: [...intake.result.notes, ...fused.reasons],
          detectors: early.done.map((report) => report.id),
          pending: early.pending,
        });
        await progress.finish('preliminary', false);
      });
      // In report order whatever the finishing order: the run's artifact limits then keep the same ones.
      const collector = createArtifactCollector({ sink: request.onArtifact });
      const reports = new Map<string, DetectorReport>();
      for (const { report, computed } of outcomes) {
        if (computed.length > 0) report.artifacts = await collector.accept(report.id, computed);
        reports.set(report.id, report);
      }
      detectors = deps.detectors.map(
        (detector) => reports.get(detector.id) ?? switchedOffReport(detector, switchedOff.get(detector.id)!),
      );
    } else {
      const failure = intake.refusal?.reason ?? 'not checked';
      detectors = deps.detectors.map((detector) => notAnalysed(detector, failure));
    }
    await progress.start('fusion');
    const fusion = fuseDetectorReports({ intakeFailure: intake.refusal?.reason ?? null, detectors }, policy);
    const integrity = intake.result ? intake.result.integrity : intake.refusal.integrity;
    // Detectors measure their share of what is present; the report's coverage is of what was claimed.
    const presentShare = intake.result ? intake.result.integrity.presentFraction : 0;
    const tools = await deps.mediaTools.versions();
    const found = (await inputs?.summary()) ?? { plan: null, faces: null };
    await progress.finish('fusion');
    await progress.start('report');
    return withoutNulCharacters({
      schemaVersion: 1,
      pipelineVersion: version,
      createdAt: clock().toISOString(),
      compression: intake.result ? compressionOf(intake.result, detectors) : null,
      band: fusion.band,
      reasons: [...(intake.result?.notes ?? []), ...fusion.reasons],
      media: mediaSummary(request, await request.sha256, intake.result?.probe ?? request.probe ?? null),
      integrity,
      sampling: found.plan,
      faces: found.faces ? faceTrackReports(found.faces) : null,
      detectors: detectors.map((detector) => ({
        ...detector,
        ...(deps.calibration?.assess(detector) ?? { percentile: null, probability: null }),
      })),
      coverage: Number((fusion.coverage * presentShare).toFixed(3)),
      versions: {
        pipeline: version,
        node: process.version,
        ffmpeg: tools.ffmpeg,
        ffprobe: tools.ffprobe,
        detectors: detectorVersions,
        faceModels: found.faces?.models ?? null,
        calibration: deps.calibration
          ? {
              sha256: deps.calibration.sha256,
              source: deps.calibration.source,
              projectDefault: deps.calibration.projectDefault,
              builtFrom: deps.calibration.builtFrom,
            }
          : null,
        ...(request.detectorFlags
          ? {
              featureFlags: request.detectorFlags.map((decision) => ({
                ...decision,
                ran: !switchedOff.has(decision.detectorId),
              })),
            }
          : {}),
      },
      disclaimer: reportDisclaimer,
    });
  }

  return { version, run };
}

interface Progress {
  start(stage: string): Promise<void>;
  /** `counted`: the stage is one of the run's units of work (probe, each detector, fusion). */
  finish(stage: string, counted?: boolean): Promise<void>;
  /** The inputs detectors wait on (frames, faces): named, not counted, and never failing the run. */
  mark(stage: string, phase: StagePhase): Promise<void>;
}

/** Progress calls in order, one at a time, however many detectors report at once; each checks for abort. */
function createProgress(request: AnalysisRunRequest, units: number): Progress {
  let done = 0;
  let chain: Promise<void> = Promise.resolve();
  const call = (stage: string, phase: StagePhase) => {
    const share = Math.min(1, done / units);
    const next = chain.then(() => request.onProgress?.(stage, share, phase));
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    async start(stage) {
      request.signal.throwIfAborted();
      await call(stage, 'started');
    },
    async finish(stage, counted = true) {
      request.signal.throwIfAborted();
      if (counted) done += 1;
      await call(stage, 'finished');
    },
    // The detector waiting on the input reports what went wrong with it.
    mark: (stage, phase) => call(stage, phase).catch(() => undefined),
  };
}

/**
 * Every detector, started together: those that need no decoded pictures first among equals, and when they
 * are all done (before the frame, face and picture detectors, which wait on decoding) `onEarlyDone` hears
 * their reports. The frames and faces are asked for at once so decoding starts while the others compute.
 * Outcomes come back in the detectors' order.
 */
async function runDetectors(
  detectors: readonly Detector[],
  context: DetectorContext,
  progress: Progress,
  tracer: Tracer,
  onEarlyDone: (early: { done: DetectorReport[]; pending: string[] }) => Promise<void>,
): Promise<DetectorOutcome[]> {
  const needsSample = (detector: Detector) =>
    detector.needs.includes('frames') || detector.needs.includes('faces');
  const needsPictures = (detector: Detector) => needsSample(detector) || detector.needs.includes('pictures');
  const late = detectors.filter(needsPictures);
  // Only for detectors that apply: a clip without audio starts no decoding for an audio-and-face check.
  const waiting = late.filter((detector) => needsSample(detector) && appliesTo(detector, context));
  if (waiting.some((detector) => detector.needs.includes('faces'))) prefetch(context.faces());
  else if (waiting.length > 0) prefetch(context.frames());
  const run = async (detector: Detector) => {
    await progress.start(`detector:${detector.id}`);
    const outcome = await traceDetectorRun(tracer, detector, () => runDetector(detector, context));
    await progress.finish(`detector:${detector.id}`);
    return outcome;
  };
  const early = detectors.filter((detector) => !needsPictures(detector));
  const runs = new Map<Detector, Promise<DetectorOutcome>>();
  for (const detector of [...early, ...late.filter(needsSample)]) runs.set(detector, run(detector));
  const settle = (some: readonly Detector[]) =>
    Promise.allSettled(some.map((detector) => runs.get(detector)!));
  const earlySettled = await settle(early);
  const done = earlySettled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.report] : []));
  const preliminary =
    done.length === early.length && late.length > 0
      ? onEarlyDone({ done, pending: late.map((detector) => detector.id) })
      : Promise.resolve();
  // Detectors decoding pictures of their own start once the preliminary band is out: their first computation
  // (the GOP comb search over the packet table) holds the main thread. A failure is thrown below.
  await preliminary.catch(() => undefined);
  for (const detector of late.filter((detector) => !needsSample(detector))) runs.set(detector, run(detector));
  // Every run is settled before anything throws, so none is left unobserved when one aborts.
  const [settled] = await Promise.all([settle(detectors), preliminary]);
  const outcomes: DetectorOutcome[] = [];
  for (const result of settled) {
    if (result.status === 'rejected') throw result.reason;
    outcomes.push(result.value);
  }
  return outcomes;
}

/** Whether the detector applies, by its own synchronous check; one that throws is left to its run to report. */
function appliesTo(detector: Detector, context: DetectorContext): boolean {
  try {
    return detector.applicable(context).applicable;
  } catch {
    return false;
  }
}

/** Starts an input early; a failure is each detector's to report when it asks, not an unhandled rejection. */
function prefetch(input: Promise<unknown>): void {
  input.catch(() => undefined);
}

function faceTrackReports(faces: FaceAnalysis): FaceTrackReport[] {
  return faces.tracks.map((track) => ({
    id: track.id,
    framesSeen: track.observations.length,
    sizePixels: track.sizePixels,
    analysed: track.analysed,
    ...(track.reason ? { reason: track.reason } : {}),
    boxes: track.observations.map((face) => ({
      timeSeconds: face.timeSeconds,
      box: face.box,
      score: face.score,
    })),
  }));
}

function pipelineVersion(detectors: readonly Detector[], policy: FusionPolicy): string {
  const identity = [
    ...detectors.map((detector) => `${detector.id}@${detector.version}`).sort(),
    JSON.stringify(policy),
  ];
  return `p1-${createHash('sha256').update(identity.join('\n')).digest('hex').slice(0, 12)}`;
}

type Intake = { result: IntakeResult; refusal: null } | { result: null; refusal: MediaIntakeRefusal };

function primaryKeyframeTimes(intake: IntakeResult): readonly number[] | undefined {
  const video = primaryVideoStream(intake.probe);
  return intake.packets && intake.packets.streamIndex === video?.index
    ? intake.packets.table.keyframeTimes
    : undefined;
}

/** Media that fails the intake check is a result (not_analyzable, with the reason), not an error; aborts and bugs still throw. */
async function checkIntake(
  check: MediaIntakeCheck,
  mediaTools: MediaTools,
  request: AnalysisRunRequest,
): Promise<Intake> {
  try {
    const result = await check.check({
      input: request.input,
      sizeBytes: request.sizeBytes,
      probe: request.probe,
      mediaTools,
      signal: request.signal,
    });
    return { result, refusal: null };
  } catch (error) {
    if (error instanceof MediaIntakeRefusal && !request.signal.aborted)
      return { result: null, refusal: error };
    throw error;
  }
}

function compressionOf(
  intake: IntakeResult,
  detectors: readonly DetectorReport[],
): AnalysisReport['compression'] {
  const video = primaryVideoStream(intake.probe);
  const packets = intake.packets && intake.packets.streamIndex === video?.index ? intake.packets.table : null;
  const gopReport = detectors.find((detector) => detector.id === 'gop-double-compression') ?? null;
  return compressionProfile({ probe: intake.probe, packets, gopReport });
}

function notAnalysed(detector: Detector, failure: string): DetectorReport {
  const reason = `the media failed the intake check (${failure})`;
  return notRunReport(detector, reason, `Not applicable: ${reason}.`);
}

function switchedOffReport(detector: Detector, decision: DetectorFlagDecision): DetectorReport {
  const reason = `switched off for this organisation by feature flag "${decision.flagKey}"`;
  return notRunReport(detector, reason, `Not run: ${reason}.`);
}

/** The report of a detector that did not run: no score, no evidence, the reason said twice (short and long). */
function notRunReport(detector: Detector, reason: string, explanation: string): DetectorReport {
  return {
    id: detector.id,
    version: detector.version,
    strength: detector.strength,
    applicable: false,
    reason,
    score: null,
    coverage: null,
    explanation,
    evidence: [],
    measurements: {},
    durationMs: 0,
  };
}

function mediaSummary(
  request: AnalysisRunRequest,
  sha256: string,
  probe: MediaProbe | null,
): AnalysisReport['media'] {
  const video = probe ? primaryVideoStream(probe) : null;
  const audio = probe?.streams.find((stream) => stream.type === 'audio') ?? null;
  return {
    sha256,
    sizeBytes: request.sizeBytes,
    formatName: probe?.formatName ?? 'unknown',
    durationSeconds: probe?.durationSeconds ?? null,
    video: video && {
      codec: video.codecName,
      width: video.width,
      height: video.height,
      frameRate: video.frameRate,
    },
    audio: audio && { codec: audio.codecName, sampleRate: audio.sampleRate, channels: audio.channels },
  };
}
