/** Plain-text table: first column left-aligned, the rest right-aligned, two spaces between columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const seconds = (ms: number) => (ms / 1000).toFixed(2);
export const ratio = (value: number) => `${value.toFixed(2)}×`;
export const mib = (value: number | null) => (value === null ? 'n/a' : value.toFixed(1));
export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
