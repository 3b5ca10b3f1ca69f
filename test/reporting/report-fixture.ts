import type { AnalysisReport, DetectorReport } from '../../src/pipeline/report.js';
import type { ReportPdfInput } from '../../src/reporting/report-pdf.js';

export function detectorReport(overrides: Partial<DetectorReport> = {}): DetectorReport {
  return {
    id: 'gop-double-compression',
    version: '2.1.0',
    strength: 'standard',
    applicable: true,
    score: 0.82,
    coverage: { unit: 'packets', analysed: 480, total: 500, fraction: 0.96 },
    explanation:
      'Keyframe sizes repeat with a period other than the current GOP: a sign of an earlier encode.',
    evidence: [{ kind: 'period', summary: 'a period of 12 frames under a GOP of 25', timeSeconds: 1.5 }],
    measurements: { period: 12 },
    durationMs: 40,
    percentile: 97.4,
    probability: null,
    ...overrides,
  };
}

export function analysisReport(overrides: Partial<AnalysisReport> = {}): AnalysisReport {
  const detectors = overrides.detectors ?? [
    detectorReport(),
    detectorReport({
      id: 'c2pa-provenance',
      version: '1.0.0',
      applicable: false,
      reason: 'no Content Credentials in the file',
      score: null,
      coverage: null,
      percentile: null,
      explanation: 'Looks for C2PA Content Credentials.',
      evidence: [],
    }),
  ];
  return {
    schemaVersion: 1,
    pipelineVersion: 'pipeline-7',
    createdAt: '2025-03-01T12:00:00.000Z',
    compression: {
      kind: 'video',
      codec: 'h264',
      profile: 'High',
      width: 1280,
      height: 720,
      bitrate: 2_400_000,
      frameRate: 25,
      bitRatePerPixelPerFrame: 0.104,
      gopLength: 25,
      bFrames: true,
      reencodeEvidence: 'strong',
      forensicSignal: 'medium',
      forensicSignalReason: 'platform-level compression keeps coarse structure but little sensor noise',
    },
    band: 'indicators_found',
    reasons: ['gop-double-compression scored 0.82 on 0.96 of the packets, above the indicator threshold'],
    media: {
      sha256: 'c0ffee'.repeat(10) + 'c0ff',
      sizeBytes: 1000,
      formatName: 'mov,mp4',
      durationSeconds: 20,
      video: { codec: 'h264', width: 1280, height: 720, frameRate: 25 },
      audio: null,
    },
    integrity: null,
    sampling: null,
    faces: null,
    detectors,
    coverage: 0.96,
    versions: {
      pipeline: 'pipeline-7',
      node: 'v20',
      ffmpeg: '6.1',
      ffprobe: '6.1',
      detectors: Object.fromEntries(detectors.map((detector) => [detector.id, detector.version])),
      faceModels: null,
      calibration: null,
    },
    disclaimer: 'Bands are indications, not proof.',
    ...overrides,
  };
}

export function reportPdfInput(overrides: Partial<ReportPdfInput> = {}): ReportPdfInput {
  return {
    analysisId: '6f1c1a52-7e0b-4a55-9b0e-3f1d2c4b5a69',
    fileName: 'interview.mp4',
    report: analysisReport(),
    completedAt: '2025-03-01T12:00:05.000Z',
    evidence: {
      statementSha256: '5a'.repeat(32),
      leafHash: '3c'.repeat(32),
      leafIndex: 41,
      keyId: '9d'.repeat(32),
      treeHead: { treeSize: 42, rootHash: 'e7'.repeat(32), timestamp: '2025-03-01T12:00:06.000Z' },
    },
    verifyLink: { url: `https://guardian.example.org/verify?leaf=41&statement=${'5a'.repeat(32)}` },
    ...overrides,
  };
}
