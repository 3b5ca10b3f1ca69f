import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

// Chunks load each other by relative URL, so hashed assets work from ASSET_BASE_URL (a CDN) as well as from
// this origin; the server rewrites the few absolute /assets/ URLs in index.html at serve time.
export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
  },
  experimental: {
    renderBuiltUrl: (_filename, { hostType }) =>
      hostType === 'js' || hostType === 'css' ? { relative: true } : undefined,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
