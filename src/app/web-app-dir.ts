import { fileURLToPath } from 'node:url';
import { pathExists } from '../storage/path-exists.js';

/** dist/web beside this module's tree (src/app or dist/app alike), when `npm run web:build` produced it. */
export async function locateWebAppDir(): Promise<string | null> {
  const dir = fileURLToPath(new URL('../../dist/web', import.meta.url));
  return (await pathExists(`${dir}/index.html`)) ? dir : null;
}
