// After `vite build`: writes .br and .gz beside each text asset (served precompressed) and enforces the
// initial-JS budget: the scripts index.html loads (entry + modulepreloads) must stay ≤ 150 KB gzipped.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const webDir = fileURLToPath(new URL('../dist/web', import.meta.url));
const initialJsBudgetBytes = 150 * 1024;
const compressible = /\.(js|css|html|svg|json|txt|webmanifest)$/;

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

async function precompress(): Promise<number> {
  let count = 0;
  for await (const path of filesUnder(webDir)) {
    if (!compressible.test(path)) continue;
    const content = await readFile(path);
    await writeFile(`${path}.gz`, gzipSync(content, { level: 9 }));
    await writeFile(
      `${path}.br`,
      brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
    count += 1;
  }
  return count;
}

/** The JS a first visit must fetch before anything renders: index.html's module script and preloads. */
export async function initialJsGzipBytes(dir: string): Promise<{ files: string[]; gzipBytes: number }> {
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/?([^"]+\.js)"/g),
  ].map((match) => match[1] as string);
  let gzipBytes = 0;
  for (const file of files) gzipBytes += gzipSync(await readFile(join(dir, file)), { level: 9 }).length;
  return { files, gzipBytes };
}

const compressed = await precompress();
const initial = await initialJsGzipBytes(webDir);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
console.log(
  `web: precompressed ${compressed} files; initial JS ${kb(initial.gzipBytes)} KB gzipped (${initial.files.join(', ')})`,
);
if (initial.files.length === 0) {
  console.error('web: index.html loads no script; the build is broken');
  process.exit(1);
}
if (initial.gzipBytes > initialJsBudgetBytes) {
  console.error(
    `web: initial JS ${kb(initial.gzipBytes)} KB gzipped exceeds the ${kb(initialJsBudgetBytes)} KB budget`,
  );
  process.exit(1);
}
