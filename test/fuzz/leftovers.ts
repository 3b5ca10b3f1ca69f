import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface FileEntry {
  path: string;
  modifiedAt: number;
}

export function listFiles(root: string): FileEntry[] {
  const found: FileEntry[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push({ path, modifiedAt: statSync(path).mtimeMs });
    }
  };
  walk(root);
  return found;
}

/**
 * What a run must not leave behind: blobs of media that were not accepted, anything in the blob store's
 * staging directory or the tus staging directory, and anything in the server's own TMPDIR.
 */
export function leftoverFiles(input: {
  dataDir: string;
  serverTmpDir: string;
  acceptedMediaIds: Set<string>;
}): FileEntry[] {
  const blobs = listFiles(join(input.dataDir, 'blobs')).filter((file) => {
    if (file.path.includes(`${join(input.dataDir, 'blobs', '.tmp')}`)) return true;
    const id = /media-([0-9a-f-]{36})\.sagb$/.exec(file.path)?.[1];
    return !id || !input.acceptedMediaIds.has(id);
  });
  // tsx (which runs the server from source in tests) keeps its compile cache in TMPDIR: not the platform's.
  const serverTmp = listFiles(input.serverTmpDir).filter((file) => !/[\\/]tsx-\d+[\\/]/.test(file.path));
  return [...blobs, ...listFiles(join(input.dataDir, 'uploads')), ...serverTmp];
}
