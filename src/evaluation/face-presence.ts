import type { AnalysisReport } from '../pipeline/report.js';

/** Whether the report found a face large enough to analyse; null when no face search ran. */
export function faceFound(report: AnalysisReport): boolean | null {
  if (report.faces === null) return null;
  return report.faces.some((track) => track.analysed);
}
