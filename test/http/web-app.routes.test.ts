import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLog } from '../services/strict-fake.js';
import { buildFakeApp, expectProblem } from './fake-app.js';

const indexHtml =
  '<!doctype html><html><head><script type="module" crossorigin src="/assets/index-abc123.js"></script>' +
  '<link rel="stylesheet" crossorigin href="/assets/index-def456.css"></head><body><div id="root"></div></body></html>';
const script = 'console.log("the app");'.repeat(20);

describe('the web app on the API origin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-web-'));
  let app: FastifyInstance;
  let cdnApp: FastifyInstance;
  let unbuiltApp: FastifyInstance;

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), indexHtml);
    writeFileSync(join(dir, 'sw.js'), 'self;');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), script);
    writeFileSync(join(dir, 'assets', 'index-abc123.js.br'), brotliCompressSync(script));
    writeFileSync(join(dir, 'assets', 'index-abc123.js.gz'), gzipSync(script));
    app = await buildFakeApp(new CallLog(), { webApp: { webAppDir: dir } });
    cdnApp = await buildFakeApp(new CallLog(), {
      webApp: { webAppDir: dir, assetBaseUrl: 'https://cdn.example.net/guardian' },
    });
    unbuiltApp = await buildFakeApp(new CallLog());
  });
  afterAll(async () => {
    await Promise.all([app.close(), cdnApp.close(), unbuiltApp.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html for / and for client-side page paths, never cached', async () => {
    for (const url of [
      '/',
      '/history',
      '/analyses/0b8c3c1e-1111-4111-8111-111111111111',
      '/sign-in?next=%2Fupload',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toBe(indexHtml);
    }
  });

  it('sends hashed assets precompressed when the browser accepts it, cached for a year', async () => {
    const brotli = await app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(brotli.statusCode).toBe(200);
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(brotli.headers['content-type']).toMatch(/^application\/javascript/);
    expect(brotli.rawPayload).toEqual(brotliCompressSync(script));

    const gzip = await app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    const identity = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body).toBe(script);
  });

  it('answers a missing asset, an unknown API path and a dotted path with a 404 problem, not the page', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/assets/index-gone.js' }), 404);
    expectProblem(await app.inject({ method: 'GET', url: '/api/v1/no-such-thing' }), 404, 'route-not-found');
    expectProblem(await app.inject({ method: 'GET', url: '/robots.txt' }), 404, 'route-not-found');
    expectProblem(await app.inject({ method: 'GET', url: '/assets/../index.html' }), 404);
  });

  it('revalidates the service worker on every load', async () => {
    const response = await app.inject({ method: 'GET', url: '/sw.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('keeps the strict CSP on pages: same-origin scripts and styles, nothing inline', async () => {
    const csp = String((await app.inject({ method: 'GET', url: '/' })).headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it('points asset URLs and the CSP at ASSET_BASE_URL when the operator serves assets from a CDN', async () => {
    const response = await cdnApp.inject({ method: 'GET', url: '/history' });
    expect(response.body).toContain('src="https://cdn.example.net/guardian/assets/index-abc123.js"');
    expect(response.body).toContain('href="https://cdn.example.net/guardian/assets/index-def456.css"');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self' https://cdn.example.net;");
    expect(csp).toContain("style-src 'self' https://cdn.example.net;");
  });

  it('says the web app is not built instead of serving nothing', async () => {
    expectProblem(await unbuiltApp.inject({ method: 'GET', url: '/' }), 503, 'web-app-not-built');
    expectProblem(
      await unbuiltApp.inject({ method: 'GET', url: '/assets/index-abc123.js' }),
      503,
      'web-app-not-built',
    );
  });
});
