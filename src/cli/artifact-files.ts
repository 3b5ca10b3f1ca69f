import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactSink } from '../pipeline/artifact-collector.js';

/** Artifacts held until the analysis ends, then written as DIR/<detector>/<name>. */
export interface ArtifactFiles {
  sink: ArtifactSink;
  /** Writes what was collected; resolves with the paths written, in report order. */
  write(dir: string): Promise<string[]>;
}

// Detector ids may hold ':' (`model:<name>`), which some file systems refuse in a directory name.
const directoryNameOf = (detectorId: string) => detectorId.replace(/[^A-Za-z0-9._-]/g, '_');

export function collectArtifactFiles(): ArtifactFiles {
  const collected: { detector: string; name: string; data: Buffer }[] = [];
  return {
    sink(fullName, artifact) {
      // The pipeline checked the name ([a-z0-9.-], no slash): the detector id is all before the last slash.
      const detector = fullName.slice(0, fullName.length - artifact.name.length - 1);
      collected.push({ detector, name: artifact.name, data: artifact.data });
    },
    async write(dir) {
      const paths: string[] = [];
      for (const { detector, name, data } of collected) {
        const folder = join(dir, directoryNameOf(detector));
        await mkdir(folder, { recursive: true });
        const path = join(folder, name);
        await writeFile(path, data);
        paths.push(path);
      }
      return paths;
    },
  };
}
