import {
  fill,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  setFillingGrayscaleColor,
  type PDFPage,
} from 'pdf-lib';
import { create as createQrCode } from 'qrcode';

/** Medium error correction: survives a crease or a smudge on a printed page, and keeps the code small. */
export const qrErrorCorrection = 'M' as const;

/** Modules of quiet zone the QR specification asks for around the symbol. */
export const qrQuietZone = 4;

/** The QR symbol of `text`: `size` × `size` modules, `dark(row, column)` true for a black module. */
export function qrModules(text: string): { size: number; dark(row: number, column: number): boolean } {
  const { modules } = createQrCode(text, { errorCorrectionLevel: qrErrorCorrection });
  return { size: modules.size, dark: (row, column) => modules.get(row, column) !== 0 };
}

/**
 * Draws the QR code of `text` as vector squares, one `re` per dark module (no image, nothing fetched), in a
 * square of `side` points, quiet zone included, whose top-left corner is at (left, top).
 */
export function drawQrCode(page: PDFPage, text: string, at: { left: number; top: number; side: number }) {
  const symbol = qrModules(text);
  const moduleSize = at.side / (symbol.size + 2 * qrQuietZone);
  const origin = { x: at.left + qrQuietZone * moduleSize, y: at.top - qrQuietZone * moduleSize };
  const squares = [];
  for (let row = 0; row < symbol.size; row += 1) {
    for (let column = 0; column < symbol.size; column += 1) {
      if (!symbol.dark(row, column)) continue;
      squares.push(
        rectangle(origin.x + column * moduleSize, origin.y - (row + 1) * moduleSize, moduleSize, moduleSize),
      );
    }
  }
  page.pushOperators(
    pushGraphicsState(),
    setFillingGrayscaleColor(0),
    ...squares,
    fill(),
    popGraphicsState(),
  );
}
