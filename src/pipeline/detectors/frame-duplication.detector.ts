import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import { framesInDisplayOrder } from './display-order-frames.js';
import { defaultRepeatScan, scanFrameRepeats, type RepeatScan } from './frame-repeats.js';
import { round } from './statistics.js';
import { intraOnlyCodecs, isStillImage, primaryVideoStream } from './video-stream.js';

/** Predicted frames that must carry bytes (noise or motion) before the absence of bytes means anything. */
const minExamined = 20;

export function createFrameDuplicationDetector(): Detector {
  return {
    id: 'frame-duplication',
    version: '1.0.0',
    needs: ['probe', 'packets'],
    strength: 'standard',
    description:
      'Frozen stretches inside moving or noisy video, from the packet table: predicted frames that carry almost no bytes where their neighbours carry many, as a repeated picture does.',
    applicable({ probe }) {
      const video = primaryVideoStream(probe);
      if (!video) return { applicable: false, reason: 'no video stream' };
      if (isStillImage(probe, video))
        return { applicable: false, reason: 'a still image has no frame sequence' };
      if (intraOnlyCodecs.has(video.codecName ?? ''))
        return {
          applicable: false,
          reason: `${video.codecName} is intra-only: a repeated picture costs as much as any other, packet sizes cannot show it`,
        };
      if (!video.width || !video.height)
        return { applicable: false, reason: 'the probe gives no picture size' };
      return { applicable: true };
    },
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const video = primaryVideoStream(context.probe);
  if (!video?.width || !video.height) throw new Error('no video stream with a picture size');
  const table = await context.mediaTools.packets(
    context.input,
    video.index,
    { sizeBytes: context.sizeBytes },
    context.signal,
  );
  const frames = framesInDisplayOrder(table.packets);
  const macroblocks = Math.ceil(video.width / 16) * Math.ceil(video.height / 16);
  const scan = scanFrameRepeats(frames, { ...defaultRepeatScan, macroblocks });
  const coverage = {
    unit: 'predicted frames',
    analysed: scan.examined,
    total: frames.filter((frame) => frame.role !== 'intra').length,
    fraction: 0,
  };
  coverage.fraction = coverage.total ? round(scan.examined / coverage.total) : 0;
  const measurements = {
    framesListed: frames.length,
    predictedFramesExamined: scan.examined,
    repeatedFrames: scan.repeats.length,
    runs: scan.runs.length,
    periodicSpacing: scan.periodicSpacing,
  };
  if (scan.examined < minExamined) {
    const reason = `only ${scan.examined} predicted frames carry enough bytes (${defaultRepeatScan.minNeighbourBytesPerMacroblock} per 16×16 block) for a repeated picture to stand out; at least ${minExamined} are needed (static, clean or heavily compressed video)`;
    return { score: null, abstainReason: reason, coverage, evidence: [], explanation: reason, measurements };
  }
  const score = scoreScan(scan);
  return {
    score,
    coverage,
    evidence: evidenceOf(scan),
    explanation: explain(scan),
    measurements: { ...measurements, score },
    perFrame: scan.repeats
      .filter((repeat) => repeat.timeSeconds !== null)
      .map((repeat) => ({ timeSeconds: repeat.timeSeconds as number, score: 1 })),
  };
}

/** One isolated repeat can be a capture hiccup; several frozen stretches in noisy video are what edits leave. */
function scoreScan(scan: RepeatScan): number {
  if (scan.runs.length === 0) return 0;
  // Steady duplication is frame-rate conversion: processing, not an edit of the content.
  if (scan.periodicSpacing !== null) return 0.2;
  if (scan.runs.length >= 3) return 0.9;
  if (scan.runs.length === 2) return 0.75;
  return scan.runs[0]!.frames >= 2 ? 0.6 : 0.25;
}

function evidenceOf(scan: RepeatScan): Evidence[] {
  return scan.runs.slice(0, 20).map((run) => ({
    kind: 'frozen-frames',
    summary: `${run.frames} frame${run.frames === 1 ? '' : 's'} from frame ${run.firstIndex}${run.timeSeconds === null ? '' : ` (${round(run.timeSeconds, 2)} s)`} carry almost no bytes while the frames around them carry noise or motion: the picture repeats`,
    ...(run.timeSeconds === null ? {} : { timeSeconds: run.timeSeconds }),
    data: { firstFrame: run.firstIndex, lastFrame: run.lastIndex, frames: run.frames },
  }));
}

function explain(scan: RepeatScan): string {
  const measured = `Read the size of every predicted frame against the frames of its kind around it; in video with noise or motion, a frame coded in almost no bytes (at most ${defaultRepeatScan.maxShareOfNeighbours * 100}% of the lower quartile of its neighbours and ${defaultRepeatScan.maxBytesPerMacroblock} bytes per 16×16 block) repeats the picture before it. Examined ${scan.examined} frames.`;
  if (scan.runs.length === 0) return `${measured} None repeats.`;
  if (scan.periodicSpacing !== null)
    return `${measured} ${scan.repeats.length} repeated frames come every ${scan.periodicSpacing} frames: frame-rate conversion by duplication, which is processing, not an edit of the content.`;
  return `${measured} Found ${scan.runs.length} frozen stretch${scan.runs.length === 1 ? '' : 'es'} (${scan.repeats.length} frames): a frozen picture is what padding a cut or covering removed frames leaves, and also what a camera or screen recorder writes when it drops frames. Cannot see: repeats in an intra-only stream, or under noise or grain added after the freeze (each repeat then differs).`;
}
