/** One dark stretch of a QR code row, drawn as one SVG rect (fewer nodes than a rect per module). */
export interface QrRun {
  x: number;
  y: number;
  width: number;
}

/** Merges each row's adjacent dark modules into runs; `isDark(row, column)` reads the QR matrix. */
export function qrDarkRuns(size: number, isDark: (row: number, column: number) => boolean): QrRun[] {
  const runs: QrRun[] = [];
  for (let row = 0; row < size; row += 1) {
    let start = -1;
    for (let column = 0; column <= size; column += 1) {
      const dark = column < size && isDark(row, column);
      if (dark && start < 0) start = column;
      if (!dark && start >= 0) {
        runs.push({ x: start, y: row, width: column - start });
        start = -1;
      }
    }
  }
  return runs;
}

/** The base32 secret in groups of four, easier to type into an authenticator app by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s/g, '').match(/.{1,4}/g) ?? []).join(' ');
}
