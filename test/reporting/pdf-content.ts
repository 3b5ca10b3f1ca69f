import {
  decodePDFRawStream,
  PDFArray,
  PDFDocument,
  PDFRawStream,
  type PDFObject,
  type PDFPage,
} from 'pdf-lib';

/** The decoded (inflated) content stream operators of one page, as text. */
export function pageContent(page: PDFPage): string {
  const contents = page.node.Contents();
  const streams: PDFObject[] = contents instanceof PDFArray ? contents.asArray() : contents ? [contents] : [];
  return streams
    .map((entry) => page.doc.context.lookup(entry))
    .map((stream) => {
      if (!(stream instanceof PDFRawStream)) throw new Error('a content stream that is not a raw stream');
      return Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1');
    })
    .join('\n');
}

/** Every string shown with Tj on the page, in drawing order, one per line (hex strings decoded as WinAnsi). */
export function pageText(page: PDFPage): string[] {
  return [...pageContent(page).matchAll(/<([0-9A-Fa-f]*)> Tj/g)].map((match) =>
    Buffer.from(match[1] ?? '', 'hex').toString('latin1'),
  );
}

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Rectangles appended with the `re` operator (the QR code's modules). */
export function pageRectangles(page: PDFPage): Rectangle[] {
  const number = String.raw`(-?\d+(?:\.\d+)?)`;
  const pattern = new RegExp(`${number} ${number} ${number} ${number} re`, 'g');
  return [...pageContent(page).matchAll(pattern)].map((match) => ({
    x: Number(match[1]),
    y: Number(match[2]),
    width: Number(match[3]),
    height: Number(match[4]),
  }));
}

export async function loadPdf(bytes: Uint8Array): Promise<PDFDocument> {
  return PDFDocument.load(bytes, { updateMetadata: false });
}

/** All the text of the document, lines joined by newlines. */
export function documentText(doc: PDFDocument): string {
  return doc
    .getPages()
    .flatMap((page) => pageText(page))
    .join('\n');
}
