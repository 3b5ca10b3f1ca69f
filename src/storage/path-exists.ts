import { stat } from 'node:fs/promises';

/** Whether something is at the path; errors other than "not there" (permissions, I/O) are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}
