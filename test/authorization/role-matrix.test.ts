import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogedRoute } from '../../src/http/route-catalog.js';
import {
  allRoles,
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type RoleKeys,
} from './platform-app.js';
import { expectProblem, isSessionOnly, isUnsafe, policyOf, probe, routeLabel } from './route-matrix.js';

const opened = await openPlatformApp();
const keyRoutes = opened.app.routeCatalog.filter(
  (route) => typeof policyOf(route) === 'object' && !isSessionOnly(route),
);
const sessionRoutes = opened.app.routeCatalog.filter(isSessionOnly);

const cases = keyRoutes.flatMap((route) =>
  allRoles.map((role) => {
    const allowed = (policyOf(route) as { roles: readonly string[] }).roles.includes(role);
    return [
      `${routeLabel(route)} as ${role} → ${allowed ? 'not 403' : '403'}`,
      route,
      role,
      allowed,
    ] as const;
  }),
);

let keys: RoleKeys;

beforeAll(async () => {
  keys = (await createOrganisationWithKeys(opened.platform, 'Role matrix')).keys;
});

afterAll(() => opened.close());

// A signed link to bytes the caller may already read: POST (never cached, CSRF-checked), but no state change.
const mintsReadLink = (route: CatalogedRoute) =>
  route.method === 'POST' && /\/(content-links|links)$/.test(route.url);

describe('role matrix over every route that API keys may use (route table × role)', () => {
  it('covers read, write and admin routes', () => {
    expect(keyRoutes.map(routeLabel)).toEqual(
      expect.arrayContaining([
        'GET /api/v1/media/:id',
        'GET /api/v1/analyses/:id/artifacts',
        'GET /api/v1/analyses/:id/artifacts/:detector/:name',
        'GET /api/v1/analyses/:id/evidence',
        'GET /api/v1/analyses/:id/report.pdf',
        'GET /api/v1/log/tree-head',
        'GET /api/v1/media/:id/content',
        'HEAD /api/v1/media/:id/content',
        'DELETE /api/v1/media/:id',
        'POST /api/v1/media',
        'GET /api/v1/media',
        'GET /api/v1/analyses',
        'POST /api/v1/media/:id/analyses',
        'POST /api/v1/api-keys',
        'GET /api/v1/audit-events',
        'GET /api/v1/audit-events/verification',
      ]),
    );
  });

  it('lets readers mint signed read links (POST that changes nothing), and only those', () => {
    expect(keyRoutes.filter(mintsReadLink).map(routeLabel).sort()).toEqual([
      'POST /api/v1/analyses/:id/artifacts/:detector/:name/links',
      'POST /api/v1/media/:id/content-links',
    ]);
  });

  it('admits neither viewers nor auditors to a state-changing route', () => {
    const rolesOf = (route: CatalogedRoute) => (policyOf(route) as { roles: readonly string[] }).roles;
    const open = keyRoutes
      .filter((route) => isUnsafe(route) && !mintsReadLink(route))
      .filter((route) => rolesOf(route).includes('viewer') || rolesOf(route).includes('auditor'));
    expect(open.map(routeLabel)).toEqual([]);
  });

  it('keeps API-key and user management to admins', () => {
    const management = keyRoutes.filter((route) => /^\/api\/v1\/(api-keys|users)(\/|$)/.test(route.url));
    expect(management.length).toBeGreaterThan(0);
    for (const route of management) expect(policyOf(route), routeLabel(route)).toEqual({ roles: ['admin'] });
  });

  it('keeps the audit log and its verification to admins and auditors', () => {
    const audit = keyRoutes.filter((route) => route.url.startsWith('/api/v1/audit-events'));
    expect(audit.map(routeLabel)).toEqual(
      expect.arrayContaining(['GET /api/v1/audit-events', 'GET /api/v1/audit-events/verification']),
    );
    for (const route of audit)
      expect(policyOf(route), routeLabel(route)).toEqual({ roles: ['admin', 'auditor'] });
  });

  // Ids in the paths are random (no resource), and bodies are absent: an admitted call stops at 400/404/415.
  it.each(cases)('%s', async (_, route: CatalogedRoute, role, allowed) => {
    const response = await probe(opened.app, route, { headers: bearer(keys[role]) });
    if (!allowed) {
      expectProblem(response, 403, 'forbidden');
      return;
    }
    expect(response.statusCode, response.body).not.toBe(403);
    expect(response.statusCode, response.body).not.toBe(401);
    expect(response.statusCode, response.body).toBeLessThan(500);
  });
});

describe.skipIf(sessionRoutes.length === 0)(
  'routes for signed-in people only (role matrix needs session fixtures: only key refusal here)',
  () => {
    it.each(sessionRoutes.map((route) => [routeLabel(route), route] as const))(
      '%s refuses API keys of every role',
      async (_, route) => {
        for (const role of allRoles) {
          const response = await probe(opened.app, route, { headers: bearer(keys[role]) });
          expect([401, 403], `${role}: ${response.body}`).toContain(response.statusCode);
        }
      },
    );
  },
);
