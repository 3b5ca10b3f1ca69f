import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AppError } from '../../services/errors.js';

export interface WebAppOptions {
  /** The built single-page app (`npm run web:build` writes dist/web); null when it was not built. */
  webAppDir: string | null;
  /** Where browsers fetch the hashed assets from, e.g. a CDN; unset: this origin. */
  assetBaseUrl?: string | undefined;
}

const immutableAssets = 'public, max-age=31536000, immutable';
/** Files at the root of the build that keep a fixed name, so browsers must revalidate them. */
const revalidatedRootFiles = ['sw.js', 'favicon.svg'];

const notBuilt = () =>
  new AppError(
    503,
    'web-app-not-built',
    'Web app not built',
    'run `npm run web:build`; the API under /api/v1 works',
  );

/**
 * The web app on the API's origin: hashed assets cached for a year and sent precompressed (brotli/gzip),
 * and index.html for every page path, never cached, so a deploy takes effect on the next navigation.
 */
export const webAppRoutes: FastifyPluginAsync<WebAppOptions> = async (app, options) => {
  const { webAppDir } = options;
  if (webAppDir) {
    await app.register(fastifyStatic, { root: webAppDir, serve: false, preCompressed: true });
  }
  const indexHtml = webAppDir ? await loadIndexHtml(webAppDir, options.assetBaseUrl) : null;

  const sendIndex = (reply: FastifyReply) => {
    if (!indexHtml) throw notBuilt();
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(indexHtml);
  };

  const hidden = { hide: true } as const;
  app.get('/assets/*', { config: { access: 'public' }, schema: hidden }, (request, reply) => {
    if (!webAppDir) throw notBuilt();
    const file = (request.params as { '*': string })['*'];
    return reply
      .header('cache-control', immutableAssets)
      .sendFile(join('assets', file), { cacheControl: false });
  });
  for (const file of revalidatedRootFiles) {
    app.get(`/${file}`, { config: { access: 'public' }, schema: hidden }, (_request, reply) => {
      if (!webAppDir) throw notBuilt();
      return reply.header('cache-control', 'no-cache').sendFile(file, { cacheControl: false });
    });
  }
  app.get('/', { config: { access: 'public' }, schema: hidden }, (_request, reply) => sendIndex(reply));
  // Client-side routes (/history, /analyses/…): the app decides what they show; unknown API paths stay 404.
  app.get('/*', { config: { access: 'public' }, schema: hidden }, (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || path === '/api' || /\.[a-z0-9]+$/i.test(path)) {
      throw new AppError(404, 'route-not-found', 'Not found', `no route for GET ${path}`);
    }
    return sendIndex(reply);
  });
};

/** index.html, with asset URLs pointed at ASSET_BASE_URL when the assets are served from elsewhere. */
async function loadIndexHtml(webAppDir: string, assetBaseUrl: string | undefined): Promise<string | null> {
  let html: string;
  try {
    html = await readFile(join(webAppDir, 'index.html'), 'utf8');
  } catch {
    return null;
  }
  if (!assetBaseUrl) return html;
  const base = assetBaseUrl.replace(/\/+$/, '');
  return html.replaceAll('"/assets/', `"${base}/assets/`);
}
