import { stat } from 'node:fs/promises';
import type { DetectorContext } from '../../src/pipeline/detector.js';
import type { MediaProbe, MediaTools } from '../../src/media/media-probe.js';
import type { RunInputs } from '../../src/pipeline/run-inputs.js';

const unavailable = (what: string) => () =>
  Promise.reject(new Error(`${what} are not prepared in this test`));

/** A detector context for unit tests; frames and faces reject unless the test supplies them. */
export function detectorContext(
  fields: {
    input: string;
    probe: MediaProbe;
    mediaTools: MediaTools;
    sizeBytes?: number;
  } & Partial<RunInputs>,
): DetectorContext {
  return {
    sizeBytes: 0,
    signal: new AbortController().signal,
    frames: unavailable('frames'),
    faces: unavailable('faces'),
    ...fields,
  };
}

/** detectorContext for a file on disk, with its real size. */
export async function fileDetectorContext(
  path: string,
  fields: { probe: MediaProbe; mediaTools: MediaTools } & Partial<RunInputs>,
): Promise<DetectorContext> {
  return detectorContext({ input: path, sizeBytes: (await stat(path)).size, ...fields });
}
