import { createHash } from 'node:crypto';
import type { MediaInput, MediaProbe, MediaTools } from '../media/media-probe.js';
import { createArtifactCollector, type ArtifactSink } from './artifact-collector.js';
import type { Calibration } from './calibration.js';
import { compressionProfile } from './compression-profile.js';
import type { Detector } from './detector.js';
import { createDetectorRunner } from './detector-runner.js';
import { primaryVideoStream } from './detectors/video-stream.js';
import { defaultFusionPolicy, fuseDetectorReports, type FusionPolicy } from './fusion.js';
import { MediaIntakeRefusal, type IntakeResult, type MediaIntakeCheck } from './media-intake.js';
import type { FaceAnalysis } from '../faces/face-types.js';
import type { AnalysisReport, DetectorReport, FaceTrackReport } from './report.js';
import { createRunInputs, type FaceFinder, type FrameSampler } from './run-inputs.js';
import { withSharedPackets } from './shared-media-tools.js';

export const reportDisclaimer =
  'Bands are indications from specific, explainable checks, not proof. "No indicators found" means these checks found nothing; it does not establish that the media is authentic. Scores are not probabilities.';

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
}

export interface AnalysisRunRequest {
  input: MediaInput;
  sha256: string;
  sizeBytes: number;
  /** A probe taken earlier (at upload); the media is then not probed again (its limits are checked again). */
  probe?: MediaProbe;
  signal: AbortSignal;
  /** Called at the start of each stage with the share of stages done (0–1); awaited. */
  onProgress?: (stage: string, progress: number) => void | Promise<void>;
  /**
   * Receives the bytes of each artifact the report lists as kept, in report order (awaited); the report
   * itself carries only their listing. Without it the bytes are discarded.
   */
  onArtifact?: ArtifactSink;
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
  const detectorVersions = Object.fromEntries(
    deps.detectors.map((detector) => [detector.id, detector.version]),
  );

  async function run(request: AnalysisRunRequest): Promise<AnalysisReport> {
    const { signal } = request;
    const stages = deps.detectors.length + 2;
    const progress = async (stage: string, done: number) => {
      signal.throwIfAborted();
      await request.onProgress?.(stage, done / stages);
    };
    await progress('probe', 0);
    const mediaTools = withSharedPackets(deps.mediaTools);
    const intake = await checkIntake(deps.intake, mediaTools, request);
    const inputs = intake.result
      ? createRunInputs(deps, {
          input: request.input,
          probe: intake.result.probe,
          sizeBytes: request.sizeBytes,
          signal,
        })
      : null;
    const detectors: DetectorReport[] = [];
    // One collector per run: the artifact limits are over the whole analysis.
    const runDetector = createDetectorRunner(createArtifactCollector({ sink: request.onArtifact }));
    for (const [index, detector] of deps.detectors.entries()) {
      await progress(`detector:${detector.id}`, index + 1);
      detectors.push(
        intake.result && inputs
          ? await runDetector(detector, {
              input: request.input,
              sizeBytes: request.sizeBytes,
              probe: intake.result.probe,
              mediaTools,
              signal,
              ...inputs,
            })
          : notAnalysed(detector, intake.refusal?.reason ?? 'not checked'),
      );
    }
    await progress('fusion', stages - 1);
    const fusion = fuseDetectorReports({ intakeFailure: intake.refusal?.reason ?? null, detectors }, policy);
    const integrity = intake.result ? intake.result.integrity : intake.refusal.integrity;
    // Detectors measure their share of what is present; the report's coverage is of what was claimed.
    const presentShare = intake.result ? intake.result.integrity.presentFraction : 0;
    const tools = await deps.mediaTools.versions();
    const found = (await inputs?.summary()) ?? { plan: null, faces: null };
    await request.onProgress?.('report', 1);
    return {
      schemaVersion: 1,
      pipelineVersion: version,
      createdAt: clock().toISOString(),
      compression: intake.result ? compressionOf(intake.result, detectors) : null,
      band: fusion.band,
      reasons: [...(intake.result?.notes ?? []), ...fusion.reasons],
      media: mediaSummary(request, intake.result?.probe ?? request.probe ?? null),
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
          ? { sha256: deps.calibration.sha256, source: deps.calibration.source }
          : null,
      },
      disclaimer: reportDisclaimer,
    };
  }

  return { version, run };
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
  return {
    id: detector.id,
    version: detector.version,
    strength: detector.strength,
    applicable: false,
    reason,
    score: null,
    coverage: null,
    explanation: `Not applicable: ${reason}.`,
    evidence: [],
    measurements: {},
    durationMs: 0,
  };
}

function mediaSummary(request: AnalysisRunRequest, probe: MediaProbe | null): AnalysisReport['media'] {
  const video = probe ? primaryVideoStream(probe) : null;
  const audio = probe?.streams.find((stream) => stream.type === 'audio') ?? null;
  return {
    sha256: request.sha256,
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
