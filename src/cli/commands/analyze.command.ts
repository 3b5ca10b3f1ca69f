import { createFfmpegMediaTools } from '../../media/ffmpeg.media-tools.js';
import { mediaLimitsFromConfig } from '../../media/media-limits.js';
import type { AnalysisReport } from '../../pipeline/report.js';
import { collectArtifactFiles } from '../artifact-files.js';
import type { CliCommand } from '../cli-command.js';

const usage = 'usage: guardian analyze FILE [--json] [--artifacts DIR]';

/**
 * `guardian analyze FILE [--json] [--artifacts DIR]`: the pipeline with no server, database or queue;
 * `--artifacts` writes what the detectors computed to DIR/<detector>/<name> once the analysis ends.
 */
export const analyzeCommand: CliCommand = {
  options: { json: { type: 'boolean', default: false }, artifacts: { type: 'string' } },
  async run({ positionals, values, loadConfig }) {
    const [file] = positionals;
    const artifactsDir = typeof values.artifacts === 'string' ? values.artifacts : undefined;
    if (!file || positionals.length !== 1 || (values.artifacts !== undefined && !artifactsDir)) {
      console.error(usage);
      return 2;
    }
    const config = loadConfig();
    // The ffmpeg/ffprobe version checks (child processes) run while the pipeline's modules load.
    const limits = mediaLimitsFromConfig(config);
    const [mediaTools, { analyzeFile }, { createDetectionEngine }, calibration] = await Promise.all([
      createFfmpegMediaTools({
        ffmpegPath: config.FFMPEG_PATH,
        ffprobePath: config.FFPROBE_PATH,
        limits,
        notice: (message) => console.error(`warning: ${message}`),
      }),
      import('../../pipeline/analyze-file.js'),
      import('../../pipeline/detection-engine.js'),
      import('../../pipeline/calibration.js').then((module) => module.calibrationFromConfig(config)),
    ]);
    const { pipeline } = await createDetectionEngine({
      mediaTools,
      limits,
      modelCards: config.MODEL_CARDS,
      calibration,
    });
    const controller = new AbortController();
    const abort = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', abort);
    try {
      const artifacts = artifactsDir ? collectArtifactFiles() : null;
      const report = await analyzeFile(file, {
        pipeline,
        signal: controller.signal,
        onArtifact: artifacts?.sink,
      });
      if (artifacts && artifactsDir) {
        const written = await artifacts.write(artifactsDir);
        console.error(`wrote ${written.length} artifact file(s) to ${artifactsDir}`);
      }
      console.log(values.json ? JSON.stringify(report, null, 2) : summarise(report));
      return 0;
    } finally {
      process.off('SIGINT', abort);
    }
  },
};

function summarise(report: AnalysisReport): string {
  const lines = [
    ...compressionLines(report.compression),
    `band: ${report.band}`,
    ...report.reasons.map((reason) => `  - ${reason}`),
    'detectors:',
  ];
  for (const detector of report.detectors) {
    const percentile =
      typeof detector.percentile === 'number'
        ? `, above ${detector.percentile}% of authentic reference scores`
        : '';
    const score = detector.score === null ? 'no score' : `score ${detector.score.toFixed(2)}${percentile}`;
    lines.push(
      `  ${detector.id}@${detector.version}: ${detector.applicable ? score : `not applicable (${detector.reason})`}`,
    );
    for (const artifact of detector.artifacts ?? [])
      lines.push(`    artifact ${artifact.name}${artifact.dropped ? ` (dropped: ${artifact.dropped})` : ''}`);
  }
  lines.push(`sha256: ${report.media.sha256}`, report.disclaimer);
  return lines.join('\n');
}

/** Shown ahead of the band: how much the compression left to judge. */
function compressionLines(profile: AnalysisReport['compression']): string[] {
  if (!profile) return [];
  const size = profile.width && profile.height ? ` ${profile.width}x${profile.height}` : '';
  if (profile.kind === 'image') return [`compression: ${profile.codec ?? 'unknown'} image${size}`];
  const facts = [
    profile.bitrate === null ? null : `${Math.round(profile.bitrate / 1000)} kbit/s`,
    profile.bitRatePerPixelPerFrame === null ? null : `${profile.bitRatePerPixelPerFrame} bits/pixel`,
    profile.gopLength === null ? null : `GOP ${profile.gopLength}`,
    profile.bFrames === null ? null : profile.bFrames ? 'B-frames' : 'no B-frames',
    profile.reencodeEvidence === null ? null : `re-encode evidence: ${profile.reencodeEvidence}`,
  ].filter(Boolean);
  const codec = [profile.codec ?? 'unknown', profile.profile].filter(Boolean).join(' ');
  return [
    `compression: ${codec}${size}, ${facts.join(', ')}`,
    ...(profile.forensicSignal
      ? [`  forensic signal ${profile.forensicSignal}: ${profile.forensicSignalReason}`]
      : []),
  ];
}
