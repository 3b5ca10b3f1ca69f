import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { CompressionProfile } from '../pipeline/compression-profile.js';
import type { AnalysisReport, DetectorReport } from '../pipeline/report.js';
import { bandDisclaimer, bandMeanings, bandWords } from './band-wording.js';
import { createPdfFlow, type PdfFlow } from './pdf-flow.js';
import { drawQrCode } from './qr-drawing.js';

/** What the PDF shows: the report as stored, and where its signed statement sits in the transparency log. */
export interface ReportPdfInput {
  analysisId: string;
  /** The uploaded file's name as stored; null when none was given or the media was deleted. */
  fileName: string | null;
  report: AnalysisReport;
  /** When the analysis finished (the statement's `completedAt`): also the PDF's creation date. */
  completedAt: string;
  evidence: {
    statementSha256: string;
    leafHash: string;
    leafIndex: number;
    keyId: string;
    treeHead: { treeSize: number; rootHash: string; timestamp: string };
  };
  /** The verify page for this record, or why there is none. */
  verifyLink: { url: string } | { url: null; reason: string };
}

export const pdfProducer = 'SecureAI Guardian';
const qrSide = 118;

/**
 * The analysis report as a PDF: band in plain words first, then reasons, coverage, compression, one section
 * per check and the evidence record with a QR code for the verify page. The same input gives the same bytes.
 */
export async function renderReportPdf(input: ReportPdfInput): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const completedAt = new Date(input.completedAt);
  doc.setTitle(`Analysis report: ${input.fileName ?? input.analysisId}`);
  doc.setSubject('SecureAI Guardian analysis report');
  doc.setProducer(pdfProducer);
  doc.setCreator(pdfProducer);
  doc.setCreationDate(completedAt);
  doc.setModificationDate(completedAt);
  const flow = createPdfFlow(doc, {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
    mono: await doc.embedFont(StandardFonts.Courier),
  });

  writeHeader(flow, input);
  writeBand(flow, input.report);
  writeCoverage(flow, input.report);
  flow.heading(`Checks (${input.report.detectors.length})`);
  for (const detector of input.report.detectors) writeDetector(flow, detector);
  writeEvidence(flow, input);
  flow.finish(`SecureAI Guardian analysis report, analysis ${input.analysisId}`);
  return doc.save();
}

function writeHeader(flow: PdfFlow, input: ReportPdfInput) {
  flow.text('SecureAI Guardian: analysis report', { font: 'bold', size: 18 });
  flow.space(8);
  const before = flow.replacedCharacters;
  flow.field('File name', input.fileName ?? '(no name: none was given, or the media was deleted)');
  const nameReplaced = flow.replacedCharacters > before;
  flow.field('Media SHA-256', input.report.media.sha256, { mono: true });
  flow.field('Analysed at', input.completedAt);
  flow.field('Pipeline version', input.report.pipelineVersion);
  flow.field('Analysis id', input.analysisId, { mono: true });
  if (nameReplaced)
    flow.text(
      "Characters of the file name this PDF's font cannot show are printed as '?'; the exact name is in the document properties (title) and the API.",
      { size: 8.5, color: 'muted' },
    );
}

function writeBand(flow: PdfFlow, report: AnalysisReport) {
  flow.heading('Result');
  flow.text(bandWords[report.band], { font: 'bold', size: 16 });
  flow.text(bandMeanings[report.band]);
  flow.space(4);
  if (report.reasons.length > 0) {
    flow.text('Reasons', { font: 'bold' });
    for (const reason of report.reasons) flow.text(`- ${reason}`, { indent: 8 });
  }
  flow.space(4);
  flow.text(bandDisclaimer, { size: 8.5, color: 'muted' });
}

function writeCoverage(flow: PdfFlow, report: AnalysisReport) {
  flow.heading('Coverage and compression');
  flow.field(
    'Coverage',
    `${report.coverage.toFixed(2)} of the media (the share the applicable checks examined, averaged over them)`,
  );
  writeCompression(flow, report.compression);
}

function writeCompression(flow: PdfFlow, profile: CompressionProfile | null) {
  if (!profile) {
    flow.field('Compression', 'none: the media has no picture');
    return;
  }
  const known = <T>(value: T | null, show: (value: T) => string) =>
    value === null ? 'unknown' : show(value);
  flow.field(
    'Kind and codec',
    `${profile.kind}, ${profile.codec ?? 'unknown codec'}${profile.profile ? ` (${profile.profile})` : ''}`,
  );
  flow.field(
    'Picture size',
    profile.width !== null && profile.height !== null ? `${profile.width} x ${profile.height}` : 'unknown',
  );
  if (profile.kind === 'video') {
    flow.field(
      'Frame rate',
      known(profile.frameRate, (rate) => `${rate.toFixed(2)} frames/s`),
    );
    flow.field(
      'Bitrate',
      known(profile.bitrate, (rate) => `${Math.round(rate / 1000)} kbit/s`),
    );
    flow.field(
      'Bits per pixel and frame',
      known(profile.bitRatePerPixelPerFrame, (bpp) => bpp.toFixed(3)),
    );
    flow.field(
      'Keyframe interval',
      known(profile.gopLength, (gop) => `${gop} frames`),
    );
    flow.field(
      'B-frames',
      known(profile.bFrames, (present) => (present ? 'yes' : 'no')),
    );
  }
  flow.field('Re-encode evidence', profile.reencodeEvidence ?? 'not judged');
  flow.field(
    'Forensic signal left',
    `${profile.forensicSignal ?? 'unknown'}${profile.forensicSignalReason ? `: ${profile.forensicSignalReason}` : ''}`,
  );
}

function writeDetector(flow: PdfFlow, detector: DetectorReport) {
  flow.heading(`${detector.id}@${detector.version}`, 11);
  flow.field('Applicable', applicability(detector));
  flow.field(
    'Strength',
    detector.strength === 'weak'
      ? 'weak: a cue that is reported but cannot set the band on its own'
      : 'standard: can set the band',
  );
  if (detector.applicable) {
    flow.field(
      'Score',
      detector.score === null
        ? 'none (the check abstained)'
        : `${detector.score.toFixed(3)} (0 to 1; not a probability)`,
    );
    if (detector.percentile !== undefined && detector.percentile !== null)
      flow.field(
        'Placement',
        `higher than ${Math.round(detector.percentile)} in 100 of the scores this version gave the reference media without manipulation`,
      );
    if (detector.probability !== undefined && detector.probability !== null)
      flow.field(
        'Calibrated probability',
        `${(detector.probability * 100).toFixed(1)}% of manipulation (from labelled calibration data)`,
      );
    if (detector.coverage)
      flow.field(
        'Examined',
        `${detector.coverage.analysed} of ${detector.coverage.total} ${detector.coverage.unit} (${detector.coverage.fraction.toFixed(2)})`,
      );
  }
  flow.text(detector.explanation);
  for (const evidence of detector.evidence)
    flow.text(
      `- ${evidence.timeSeconds === undefined ? '' : `at ${evidence.timeSeconds.toFixed(2)} s: `}${evidence.summary}`,
      { indent: 8, size: 9 },
    );
}

function applicability(detector: DetectorReport): string {
  if (!detector.applicable) return `no: ${detector.reason ?? 'not applicable to this media'}`;
  return detector.reason ? `yes, but it abstained: ${detector.reason}` : 'yes';
}

function writeEvidence(flow: PdfFlow, input: ReportPdfInput) {
  const { evidence } = input;
  flow.heading('Evidence record');
  flow.text(
    'The signed statement of this analysis (media hash, report hash, versions, completion time) is a leaf of the transparency log. The evidence bundle (GET /api/v1/analyses/{id}/evidence) holds it with its signature and inclusion proof; `guardian verify BUNDLE --media FILE` checks it offline.',
    { size: 9 },
  );
  flow.space(4);
  flow.field('Statement SHA-256', evidence.statementSha256, { mono: true });
  flow.field('Leaf hash (RFC 9162)', evidence.leafHash, { mono: true });
  flow.field('Leaf index', String(evidence.leafIndex));
  flow.field('Log key id', evidence.keyId, { mono: true });
  flow.field('Tree head size', String(evidence.treeHead.treeSize));
  flow.field('Tree head root', evidence.treeHead.rootHash, { mono: true });
  flow.field('Tree head signed at', evidence.treeHead.timestamp);
  flow.space(8);
  const link = input.verifyLink;
  if (link.url === null) {
    flow.text(`No verify link or QR code: ${link.reason}`, { size: 9 });
    return;
  }
  const { url } = link;
  flow.block(qrSide, (page, left, top) => drawQrCode(page, url, { left, top, side: qrSide }));
  flow.text('Verify page (the QR code above links here):', { size: 9 });
  flow.text(url, { font: 'mono', size: 8.5 });
}
