import {
  ijgScaleFactor,
  ijgTable,
  standardChrominanceTable,
  standardLuminanceTable,
} from '../../media/jpeg/ijg-tables.js';
import type { JpegStructure } from '../../media/jpeg/jpeg-structure.js';

/** One quantisation table compared with the IJG tables (libjpeg's scaling of ITU T.81 Annex K). */
export interface TableQuality {
  tableId: number;
  role: 'luminance' | 'chrominance';
  /** The IJG quality whose table is closest (1–100). */
  quality: number;
  /** The table is exactly libjpeg's at that quality. */
  exact: boolean;
  /** Mean absolute difference in steps from that IJG table (0 when exact). */
  meanDifference: number;
}

export interface QuantisationTraces {
  tables: TableQuality[];
  /** Every table in use is an exact IJG table. */
  standard: boolean;
}

/** Tables in use by the frame's components: the first component's is luminance, the others chrominance. */
export function quantisationTraces(structure: JpegStructure): QuantisationTraces {
  const frame = structure.frame;
  const seen = new Map<number, TableQuality>();
  frame?.components.forEach((component, index) => {
    const table = structure.quantTables.get(component.quantTableId);
    if (!table || seen.has(component.quantTableId)) return;
    const role = index === 0 ? 'luminance' : 'chrominance';
    seen.set(component.quantTableId, {
      tableId: component.quantTableId,
      role,
      ...closestQuality(table.values, role),
    });
  });
  const tables = [...seen.values()];
  return { tables, standard: tables.length > 0 && tables.every((table) => table.exact) };
}

function closestQuality(
  values: Uint16Array,
  role: 'luminance' | 'chrominance',
): { quality: number; exact: boolean; meanDifference: number } {
  const base = role === 'luminance' ? standardLuminanceTable : standardChrominanceTable;
  let best = { quality: 50, meanDifference: Number.POSITIVE_INFINITY };
  for (let quality = 1; quality <= 100; quality += 1) {
    const reference = ijgTable(base, quality);
    let difference = 0;
    for (let index = 0; index < 64; index += 1)
      difference += Math.abs((values[index] as number) - (reference[index] as number));
    if (difference / 64 < best.meanDifference) best = { quality, meanDifference: difference / 64 };
  }
  return {
    ...best,
    exact: best.meanDifference === 0,
    meanDifference: Math.round(best.meanDifference * 100) / 100,
  };
}

/** The IJG quality whose scale factor is `scale` percent (the inverse of ijgScaleFactor), or null outside 1–100. */
export function qualityOfScale(scale: number): number | null {
  for (let quality = 1; quality <= 100; quality += 1) if (ijgScaleFactor(quality) === scale) return quality;
  return null;
}
