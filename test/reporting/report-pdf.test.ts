import { create as createQrCode } from 'qrcode';
import { describe, expect, it } from 'vitest';
import type { Band } from '../../src/pipeline/report.js';
import { bandWords } from '../../src/reporting/band-wording.js';
import { renderReportPdf } from '../../src/reporting/report-pdf.js';
import { verifyPageUrl } from '../../src/reporting/verify-link.js';
import { documentText, loadPdf, pageRectangles, pageText } from './pdf-content.js';
import { outsideMargins, overlapping, placedText } from './pdf-geometry.js';
import { analysisReport, detectorReport, reportPdfInput } from './report-fixture.js';

const margin = 50;

describe('renderReportPdf', () => {
  it('writes a PDF pdf-lib loads, dated by the completion time, with a fixed producer', async () => {
    const doc = await loadPdf(await renderReportPdf(reportPdfInput()));
    expect(doc.getPageCount()).toBeGreaterThanOrEqual(1);
    expect(doc.getProducer()).toBe('SecureAI Guardian');
    expect(doc.getCreationDate()?.toISOString()).toBe('2025-03-01T12:00:05.000Z');
    expect(doc.getModificationDate()?.toISOString()).toBe('2025-03-01T12:00:05.000Z');
    expect(doc.getTitle()).toBe('Analysis report: interview.mp4');
  });

  it('gives the same bytes for the same input, and other bytes for another', async () => {
    const [first, second] = await Promise.all([
      renderReportPdf(reportPdfInput()),
      renderReportPdf(reportPdfInput()),
    ]);
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
    const other = await renderReportPdf(reportPdfInput({ completedAt: '2025-03-02T00:00:00.000Z' }));
    expect(Buffer.from(other).equals(Buffer.from(first))).toBe(false);
  });

  it('states the band in its plain words before the reasons and the checks, and the evidence digests', async () => {
    const input = reportPdfInput();
    const text = documentText(await loadPdf(await renderReportPdf(input)));
    const lines = text.split('\n');
    const bandAt = lines.indexOf('Manipulation indicators found');
    expect(bandAt).toBeGreaterThan(0);
    expect(bandAt).toBeLessThan(lines.indexOf('Reasons'));
    expect(bandAt).toBeLessThan(lines.indexOf('gop-double-compression@2.1.0'));
    expect(text).toContain(input.report.reasons[0]);
    expect(lines).toContain(input.evidence.statementSha256);
    expect(lines).toContain(input.evidence.leafHash);
    expect(lines).toContain(input.evidence.keyId);
    expect(lines).toContain(input.evidence.treeHead.rootHash);
    expect(lines).toContain(input.report.media.sha256);
    expect(text).toContain('pipeline-7');
    expect(text).toContain('c2pa-provenance@1.0.0');
    expect(text).toContain('no: no Content Credentials in the file');
    expect(text).toContain('0.820 (0 to 1; not a probability)');
    expect(text).toContain('higher than 97 in 100');
    expect(text).toContain('h264 (High)');
  });

  it.each(Object.entries(bandWords) as [Band, string][])(
    'uses the shared words for %s, never "authentic", and no percentage without a calibrated probability',
    async (band, words) => {
      const input = reportPdfInput({ report: analysisReport({ band }) });
      const lines = documentText(await loadPdf(await renderReportPdf(input))).split('\n');
      expect(lines).toContain(words);
      for (const [otherBand, otherWords] of Object.entries(bandWords))
        if (otherBand !== band) expect(lines).not.toContain(otherWords);
      expect(lines.join('\n')).not.toMatch(/\bauthentic\b/i);
      expect(lines.join('\n')).not.toContain('%');
    },
  );

  it('shows a percentage only for a calibrated probability the report carries', async () => {
    const report = analysisReport({ detectors: [detectorReport({ probability: 0.1234 })] });
    const text = documentText(await loadPdf(await renderReportPdf(reportPdfInput({ report }))));
    expect(text).toContain('12.3% of manipulation (from labelled calibration data)');
    expect(text.match(/%/g)).toHaveLength(1);
  });

  it('spans pages for many checks with long explanations, every line inside the margins', async () => {
    const explanation = Array.from(
      { length: 60 },
      (_, index) => `sentence ${index} of what this check measured and where.`,
    ).join(' ');
    const detectors = Array.from({ length: 30 }, (_, index) =>
      detectorReport({ id: `check-${index}`, explanation }),
    );
    const input = reportPdfInput({ report: analysisReport({ detectors }) });
    const doc = await loadPdf(await renderReportPdf(input));
    // Layout of this input: 30 sections of about 32 lines each at 9.5–10 pt.
    expect(doc.getPageCount()).toBe(23);
    const pages = doc.getPages();
    for (const [index, page] of pages.entries()) {
      const placed = await placedText(page);
      expect(outsideMargins(placed, margin), `page ${index + 1}`).toEqual([]);
      expect(overlapping(placed, 8), `page ${index + 1}`).toEqual([]);
      expect(pageText(page).at(-1)).toMatch(new RegExp(`Page ${index + 1} of ${pages.length}$`));
    }
    const lines = documentText(doc).split('\n');
    for (let index = 0; index < 30; index += 1) expect(lines).toContain(`check-${index}@2.1.0`);
    // Every word of every explanation made it onto a page, in order.
    const words = lines.join(' ').split(/\s+/);
    expect(words.filter((word) => word === 'sentence')).toHaveLength(30 * 60);
  });

  it('wraps a long name without spaces and a long URL inside the margins', async () => {
    const fileName = `${'very-long-name-'.repeat(30)}.mp4`;
    const url = verifyPageUrl(`https://guardian.example.org/${'deep/'.repeat(20)}`, {
      leafIndex: 41,
      statementSha256: '5a'.repeat(32),
    });
    const doc = await loadPdf(await renderReportPdf(reportPdfInput({ fileName, verifyLink: { url } })));
    for (const page of doc.getPages()) expect(outsideMargins(await placedText(page), margin)).toEqual([]);
    expect(documentText(doc).replaceAll('\n', '')).toContain(fileName);
    expect(documentText(doc).replaceAll('\n', '')).toContain(url);
  });

  it('draws the QR code module for module as qrcode encodes the verify URL', async () => {
    const url = verifyPageUrl('https://guardian.example.org', {
      leafIndex: 41,
      statementSha256: '5a'.repeat(32),
    });
    expect(url).toBe(`https://guardian.example.org/verify?leaf=41&statement=${'5a'.repeat(32)}`);
    const doc = await loadPdf(await renderReportPdf(reportPdfInput({ verifyLink: { url } })));
    const rectangles = doc.getPages().flatMap((page) => pageRectangles(page));
    const expected = createQrCode(url, { errorCorrectionLevel: 'M' }).modules;
    const moduleSize = rectangles[0]?.width ?? 0;
    expect(moduleSize).toBeGreaterThan(2);
    for (const rectangle of rectangles) {
      expect(rectangle.width).toBeCloseTo(moduleSize, 3);
      expect(rectangle.height).toBeCloseTo(moduleSize, 3);
    }
    // The top-left module is part of a finder pattern, so always dark: it fixes the symbol's origin.
    const left = Math.min(...rectangles.map((rectangle) => rectangle.x));
    const top = Math.max(...rectangles.map((rectangle) => rectangle.y + rectangle.height));
    const drawn = new Set(
      rectangles.map((rectangle) => {
        const row = Math.round((top - rectangle.y - rectangle.height) / moduleSize);
        const column = Math.round((rectangle.x - left) / moduleSize);
        return `${row},${column}`;
      }),
    );
    const dark = new Set<string>();
    for (let row = 0; row < expected.size; row += 1)
      for (let column = 0; column < expected.size; column += 1)
        if (expected.get(row, column)) dark.add(`${row},${column}`);
    expect(drawn.size).toBe(rectangles.length);
    expect([...drawn].sort()).toEqual([...dark].sort());
    expect(documentText(doc).replaceAll('\n', '')).toContain(url);
  });

  it('says there is no verify link, and draws no QR code, when there is no URL', async () => {
    const reason = 'this server has no PUBLIC_URL configured';
    const doc = await loadPdf(await renderReportPdf(reportPdfInput({ verifyLink: { url: null, reason } })));
    expect(doc.getPages().flatMap((page) => pageRectangles(page))).toEqual([]);
    const text = documentText(doc).replaceAll('\n', ' ');
    expect(text).toContain(`No verify link or QR code: ${reason}`);
    expect(text).not.toContain('/verify?');
  });

  it('replaces characters the standard fonts cannot show with a visible ?, keeping the exact name in the title', async () => {
    const fileName = 'Интервью 東京 🎥 ≥ café.mp4';
    const doc = await loadPdf(await renderReportPdf(reportPdfInput({ fileName })));
    const lines = documentText(doc).split('\n');
    expect(lines).toContain('???????? ?? ? >= café.mp4');
    expect(lines.join(' ')).toContain("printed as '?'");
    expect(doc.getTitle()).toBe(`Analysis report: ${fileName}`);
  });

  it('says nothing about replaced characters when the name is all drawable', async () => {
    const text = documentText(await loadPdf(await renderReportPdf(reportPdfInput({ fileName: 'café.mp4' }))));
    expect(text).toContain('café.mp4');
    expect(text).not.toContain("printed as '?'");
  });
});
