import { PageSizes, PDFDocument, StandardFonts, type PDFFont, type PDFPage } from 'pdf-lib';
import { pageContent } from './pdf-content.js';

export interface PlacedText {
  text: string;
  x: number;
  y: number;
  width: number;
}

const [pageWidth, pageHeight] = PageSizes.A4;

/**
 * Where each Tj string sits and how wide it is, from the page's own operators (`Tf`, `Tm`, `Tj`) and the
 * standard font metrics: what a viewer would draw, independent of the code that laid it out.
 */
export async function placedText(page: PDFPage): Promise<PlacedText[]> {
  const scratch = await PDFDocument.create();
  const fonts = new Map<string, PDFFont>();
  for (const name of Object.values(StandardFonts)) fonts.set(name, await scratch.embedFont(name));
  const placed: PlacedText[] = [];
  let font: PDFFont | undefined;
  let size = 0;
  let x = 0;
  let y = 0;
  const operator = /\/([\w-]+) ([\d.]+) Tf|1 0 0 1 (-?[\d.]+) (-?[\d.]+) Tm|<([0-9A-Fa-f]*)> Tj/g;
  for (const match of pageContent(page).matchAll(operator)) {
    if (match[1] !== undefined) {
      // Resource names are the base font plus a numeric suffix: Helvetica-Bold-7098480789.
      font = fonts.get(match[1].replace(/-\d+$/, ''));
      size = Number(match[2]);
    } else if (match[3] !== undefined) {
      x = Number(match[3]);
      y = Number(match[4]);
    } else {
      if (!font) throw new Error('text drawn before any font was set');
      const text = Buffer.from(match[5] ?? '', 'hex').toString('latin1');
      placed.push({ text, x, y, width: font.widthOfTextAtSize(text, size) });
    }
  }
  return placed;
}

/** Texts that leave the page's margins (or the page). */
export function outsideMargins(placed: PlacedText[], margin: number): PlacedText[] {
  return placed.filter(
    (text) =>
      text.x < margin - 0.01 ||
      text.x + text.width > pageWidth - margin + 0.01 ||
      text.y < 0 ||
      text.y > pageHeight - margin,
  );
}

/** Pairs of texts drawn over each other: on (nearly) the same baseline with overlapping horizontal extents. */
export function overlapping(placed: PlacedText[], minLineGap: number): [PlacedText, PlacedText][] {
  const pairs: [PlacedText, PlacedText][] = [];
  placed.forEach((first, index) => {
    for (const second of placed.slice(index + 1)) {
      const sameLine = Math.abs(first.y - second.y) < minLineGap;
      const sideBySide = first.x + first.width <= second.x || second.x + second.width <= first.x;
      if (sameLine && !sideBySide) pairs.push([first, second]);
    }
  });
  return pairs;
}
