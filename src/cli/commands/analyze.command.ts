import type { AnalysisReport } from '../../pipeline/report.js';
import { collectArtifactFiles } from '../artifact-files.js';
import type { CliCommand } from '../cli-command.js';
import { interruptible, openLocalEngine } from '../local-engine.js';

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
    const [{ pipeline }, { analyzeFile }] = await Promise.all([
      openLocalEngine(loadConfig(), { configured: true }),
      import('../../pipeline/analyze-file.js'),
    ]);
    const artifacts = artifactsDir ? collectArtifactFiles() : null;
    const report = await interruptible((signal) =>
      analyzeFile(file, { pipeline, signal, onArtifact: artifacts?.sink }),
    );
    if (artifacts && artifactsDir) {
      const written = await artifacts.write(artifactsDir);
      console.error(`wrote ${written.length} artifact file(s) to ${artifactsDir}`);
    }
    console.log(values.json ? JSON.stringify(report, null, 2) : summarise(report));
    return 0;
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
