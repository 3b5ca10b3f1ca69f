import type { AnalysisReport } from '../pipeline/report.js';

/**
 * Whether the report says a face was found: true/false, or null when it says nothing about faces.
 * Read loosely on purpose: the report's face fields are being added by the face detectors (a `faces`
 * summary, or face counts among detector measurements) and the eval must work before and after.
 */
export function faceFound(report: AnalysisReport): boolean | null {
  const summary = (report as unknown as { faces?: unknown }).faces;
  if (summary && typeof summary === 'object') {
    const fields = summary as Record<string, unknown>;
    if (typeof fields.found === 'boolean') return fields.found;
    for (const key of ['count', 'faceCount', 'tracksAnalysed', 'analysedTracks'])
      if (typeof fields[key] === 'number') return (fields[key] as number) > 0;
    if (Array.isArray(fields.tracks)) return fields.tracks.length > 0;
  }
  let said: boolean | null = null;
  for (const detector of report.detectors) {
    for (const [key, value] of Object.entries(detector.measurements)) {
      if (!/^(faces?|faceCount|facesFound|faceTracks|tracks)$/i.test(key)) continue;
      if (typeof value === 'number') said = (said ?? false) || value > 0;
      if (typeof value === 'boolean') said = (said ?? false) || value;
    }
  }
  return said;
}
