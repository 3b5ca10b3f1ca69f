import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CallLog } from '../services/strict-fake.js';
import { authorized, buildFakeApp, expectProblem } from './fake-app.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(): Promise<FastifyInstance> {
  app = await buildFakeApp(new CallLog());
  return app;
}

describe('the API reference at /api/docs', () => {
  it('is for signed-in users and API keys only, like /api/v1/openapi.json', async () => {
    const server = await start();
    for (const url of ['/api/docs', '/api/docs/json', '/api/docs/static/swagger-ui-bundle.js']) {
      expectProblem(await server.inject({ url }), 401, 'unauthenticated');
    }
    const docsRoutes = server.routeCatalog.filter((route) => route.url.startsWith('/api/docs'));
    expect(docsRoutes.length).toBeGreaterThan(3);
    expect(docsRoutes.filter((route) => route.config.access === undefined)).toEqual([]);
  });

  it('serves Swagger UI from its own files under a CSP without inline code or other origins', async () => {
    const server = await start();
    const page = await server.inject({ url: '/api/docs', headers: authorized });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-initializer.js');
    expect(page.body).not.toMatch(/<script>|style=/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/(^|;)\s*default-src 'none'\s*(;|$)/);
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).toMatch(/style-src 'self';/);
    expect(csp).not.toMatch(/unsafe|https:|\*/);
    expect(page.headers['x-frame-options']).toBe('DENY');

    const script = await server.inject({
      url: '/api/docs/static/swagger-initializer.js',
      headers: authorized,
    });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('"validatorUrl":null');
    const spec = await server.inject({ url: '/api/docs/json', headers: authorized });
    expect(spec.json<{ openapi: string; paths: Record<string, unknown> }>()).toMatchObject({
      openapi: expect.stringMatching(/^3\./),
      paths: expect.objectContaining({ '/api/v1/verify': expect.any(Object) }),
    });
  });

  it('leaves the CSP of the rest of the app untouched', async () => {
    const server = await start();
    const other = await server.inject({ url: '/livez' });
    expect(String(other.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(String(other.headers['content-security-policy'])).not.toBe(
      String(
        (await server.inject({ url: '/api/docs', headers: authorized })).headers['content-security-policy'],
      ),
    );
  });
});

describe('the user guides linked from the help page', () => {
  it('serves the fixed list of guides as plain text to anyone', async () => {
    const server = await start();
    const guide = await server.inject({ url: '/docs/user-guide.md' });
    expect(guide.statusCode).toBe(200);
    expect(guide.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(guide.headers['x-content-type-options']).toBe('nosniff');
    expect(guide.body).toContain('No indicators found by these checks');
    expect((await server.inject({ url: '/docs/verification.md' })).body).toContain('What it does not prove');
  });

  it('serves nothing else from docs/', async () => {
    const server = await start();
    for (const url of ['/docs/configuration.md', '/docs/..%2Fpackage.json', '/docs/README.md']) {
      const response = await server.inject({ url });
      expect(response.statusCode, url).toBe(404);
    }
  });
});
