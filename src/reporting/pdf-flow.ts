import { PageSizes, rgb, type PDFDocument, type PDFFont, type PDFPage } from 'pdf-lib';
import { textForFont, wrapText } from './pdf-text.js';

export interface FlowFonts {
  regular: PDFFont;
  bold: PDFFont;
  /** Hashes and ids: fixed width, so a digest reads and compares column by column. */
  mono: PDFFont;
}

type FontName = keyof FlowFonts;

export interface TextStyle {
  font?: FontName;
  size?: number;
  /** Points from the left margin. */
  indent?: number;
  color?: 'text' | 'muted';
}

const [pageWidth, pageHeight] = PageSizes.A4;
const margin = 50;
// Room under the last line for the page footer.
const bottom = 64;
const labelWidth = 130;
const colors = { text: rgb(0.1, 0.1, 0.1), muted: rgb(0.35, 0.35, 0.35) };

export const contentWidth = pageWidth - 2 * margin;

/** A top-to-bottom writer over A4 pages: wraps every text to the margins and starts a page when one is full. */
export function createPdfFlow(doc: PDFDocument, fonts: FlowFonts) {
  let page: PDFPage = doc.addPage(PageSizes.A4);
  let y = pageHeight - margin;
  let replacedCharacters = 0;

  const lineHeight = (size: number) => size * 1.35;

  function newPage() {
    page = doc.addPage(PageSizes.A4);
    y = pageHeight - margin;
  }

  /** Moves to a new page unless `height` points still fit on this one. */
  function reserve(height: number): { page: PDFPage; top: number } {
    if (y - height < bottom && y < pageHeight - margin) newPage();
    return { page, top: y };
  }

  function drawable(font: PDFFont, raw: string): string {
    const { text, replaced } = textForFont(font, raw);
    replacedCharacters += replaced;
    return text;
  }

  function drawLine(line: string, x: number, style: Required<TextStyle>) {
    const height = lineHeight(style.size);
    reserve(height);
    y -= height;
    page.drawText(line, {
      x,
      y: y + (height - style.size) / 2 + style.size * 0.2,
      size: style.size,
      font: fonts[style.font],
      color: colors[style.color],
    });
  }

  const withDefaults = (style: TextStyle): Required<TextStyle> => ({
    font: 'regular',
    size: 10,
    indent: 0,
    color: 'text',
    ...style,
  });

  return {
    /** A paragraph; newlines in it start new lines. */
    text(raw: string, style: TextStyle = {}) {
      const full = withDefaults(style);
      const font = fonts[full.font];
      for (const part of raw.split(/\r?\n/)) {
        const lines = wrapText(font, full.size, drawable(font, part), contentWidth - full.indent);
        for (const line of lines) drawLine(line, margin + full.indent, full);
      }
    },

    heading(raw: string, size = 13) {
      // A heading never sits alone at the bottom of a page: keep room for it and two lines after it.
      reserve(lineHeight(size) + 2 * lineHeight(10) + 8);
      y -= 8;
      this.text(raw, { font: 'bold', size });
      y -= 2;
    },

    /** A label in the left column and its value wrapped in the right one. */
    field(label: string, value: string, options: { mono?: boolean } = {}) {
      const size = 9.5;
      const valueFont = fonts[options.mono ? 'mono' : 'regular'];
      const labelLines = wrapText(fonts.bold, size, drawable(fonts.bold, label), labelWidth - 8);
      const valueLines = wrapText(valueFont, size, drawable(valueFont, value), contentWidth - labelWidth);
      const rows = Math.max(labelLines.length, valueLines.length);
      for (let row = 0; row < rows; row += 1) {
        const labelLine = labelLines[row];
        const valueLine = valueLines[row];
        const height = lineHeight(size);
        reserve(height);
        const baseline = y - height + (height - size) / 2 + size * 0.2;
        y -= height;
        if (labelLine)
          page.drawText(labelLine, { x: margin, y: baseline, size, font: fonts.bold, color: colors.text });
        if (valueLine)
          page.drawText(valueLine, {
            x: margin + labelWidth,
            y: baseline,
            size,
            font: valueFont,
            color: colors.text,
          });
      }
    },

    space(points: number) {
      y -= points;
    },

    /** A block of fixed height drawn by `draw` with its top-left corner at (x, top). */
    block(height: number, draw: (page: PDFPage, left: number, top: number) => void) {
      const { page: target, top } = reserve(height);
      draw(target, margin, top);
      y -= height;
    },

    /** Characters replaced by `?` so far (the caller says so in the document). */
    get replacedCharacters() {
      return replacedCharacters;
    },

    /** "Page i of n" and a line of identification at the foot of every page. */
    finish(footer: string) {
      const pages = doc.getPages();
      const size = 8;
      const text = drawable(fonts.regular, footer);
      pages.forEach((target, index) => {
        const label = `${text}   Page ${index + 1} of ${pages.length}`;
        const lines = wrapText(fonts.regular, size, label, contentWidth);
        lines.forEach((line, row) =>
          target.drawText(line, {
            x: margin,
            y: bottom - 28 - row * lineHeight(size),
            size,
            font: fonts.regular,
            color: colors.muted,
          }),
        );
      });
    },
  };
}

export type PdfFlow = ReturnType<typeof createPdfFlow>;
