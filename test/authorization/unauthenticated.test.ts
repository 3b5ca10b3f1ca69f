import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, openPlatformApp } from './platform-app.js';
import { expectProblem, policyOf, probe, routeLabel } from './route-matrix.js';

// Top-level await: the tests are generated from the live route table of the real app.
const opened = await openPlatformApp();
const routes = opened.app.routeCatalog;
const protectedRoutes = routes.filter((route) => policyOf(route) !== 'public');

afterAll(() => opened.close());

describe('every route that is not public refuses requests without valid credentials (route table)', () => {
  it('walks the real route table, every method included', () => {
    const labels = protectedRoutes.map(routeLabel);
    expect(labels).toEqual(
      expect.arrayContaining([
        'POST /api/v1/media',
        'GET /api/v1/media',
        'GET /api/v1/analyses',
        'POST /api/v1/media/:id/analyses',
        'GET /api/v1/media/:id',
        'HEAD /api/v1/media/:id',
        'GET /api/v1/analyses/:id',
        'GET /api/v1/analyses/:id/artifacts',
        'GET /api/v1/analyses/:id/artifacts/:detector/:name',
        'GET /api/v1/analyses/:id/evidence',
        'GET /api/v1/analyses/:id/report.pdf',
        'GET /api/v1/log/tree-head',
        'GET /api/v1/log/anchors',
        'POST /api/v1/api-keys',
        'DELETE /api/v1/api-keys/:id',
        'PATCH /api/v1/uploads/:uploadId',
        'OPTIONS /api/v1/uploads',
      ]),
    );
    expect(routes.filter((route) => route.config.access === undefined).map(routeLabel)).toEqual([]);
  });

  it.each(protectedRoutes.map((route) => [routeLabel(route), route] as const))(
    '%s → 401 without credentials',
    async (_, route) => {
      expectProblem(await probe(opened.app, route), 401);
    },
  );

  it.each(protectedRoutes.map((route) => [routeLabel(route), route] as const))(
    '%s → 401 with an unknown API key',
    async (_, route) => {
      const unknownKey = `sag_${randomBytes(32).toString('base64url')}`;
      expectProblem(await probe(opened.app, route, { headers: bearer(unknownKey) }), 401);
    },
  );
});
