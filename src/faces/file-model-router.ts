import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface WeightGroup {
  paths: string[];
  weights: unknown[];
}
interface IoHandler {
  load(): Promise<unknown>;
}
export interface TfIo {
  registerLoadRouter(router: (url: string | string[]) => IoHandler | null): void;
  getModelArtifactsForJSON(
    json: unknown,
    loadWeights: (manifest: WeightGroup[]) => Promise<[unknown[], ArrayBuffer]>,
  ): Promise<unknown>;
}

/** Loads tfjs graph models from file:// URLs (Node's fetch has no file: scheme, and nothing may download). */
export function createFileModelRouter(io: TfIo) {
  return (url: string | string[]): IoHandler | null => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const modelPath = fileURLToPath(url);
    return {
      load: async () =>
        io.getModelArtifactsForJSON(JSON.parse(readFileSync(modelPath, 'utf8')), async (manifest) => {
          const specs = manifest.flatMap((group) => group.weights);
          const buffers = manifest.flatMap((group) =>
            group.paths.map((path) => readFileSync(join(dirname(modelPath), path))),
          );
          const all = Buffer.concat(buffers);
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
        }),
    };
  };
}
