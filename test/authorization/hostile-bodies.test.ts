import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiKeyRole } from '../../src/db/schema.js';
import type { CatalogedRoute } from '../../src/http/route-catalog.js';
import { bearer, createOrganisationWithKeys, openPlatformApp, type RoleKeys } from './platform-app.js';
import { expectProblem, isSessionOnly, isUnsafe, policyOf, probe, routeLabel } from './route-matrix.js';

const opened = await openPlatformApp();
const routes = opened.app.routeCatalog;
const bodyRoutes = routes.filter((route) => route.schema?.body !== undefined);
// A key cannot get a session-only route past authentication, so its body is never parsed: static check only.
const reachable = (route: CatalogedRoute) => !isSessionOnly(route);
const liveBodyRoutes = bodyRoutes.filter(reachable);
const liveUnsafeRoutes = routes.filter((route) => isUnsafe(route) && reachable(route));

let keys: RoleKeys;

beforeAll(async () => {
  keys = (await createOrganisationWithKeys(opened.platform, 'Hostile bodies')).keys;
});

afterAll(() => opened.close());

/** Credentials the route admits (none for public routes), so the body is what gets judged. */
function credentials(route: CatalogedRoute): Record<string, string> {
  const policy = policyOf(route);
  if (policy === 'public' || policy === undefined) return {};
  const roles = policy.roles as readonly ApiKeyRole[];
  return bearer(keys[roles.includes('admin') ? 'admin' : (roles[0] ?? 'admin')]);
}

function bodyJsonSchema(route: CatalogedRoute): { properties?: Record<string, unknown> } {
  return z.toJSONSchema(route.schema?.body as z.ZodType, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
  };
}

/** Every object in the JSON Schema of a body, nested ones included. */
function objectNodes(schema: unknown, path = '$'): { path: string; node: Record<string, unknown> }[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const own = node.type === 'object' || node.properties !== undefined ? [{ path, node }] : [];
  return [
    ...own,
    ...Object.entries(node).flatMap(([key, value]) =>
      Array.isArray(value)
        ? value.flatMap((item, index) => objectNodes(item, `${path}.${key}[${index}]`))
        : objectNodes(value, `${path}.${key}`),
    ),
  ];
}

describe('request bodies: unknown properties and prototype pollution (route table)', () => {
  it('finds the JSON body routes', () => {
    expect(bodyRoutes.map(routeLabel)).toContain('POST /api/v1/api-keys');
  });

  it.each(bodyRoutes.map((route) => [routeLabel(route), route] as const))(
    '%s: every object in the body schema rejects unknown properties',
    (_, route) => {
      const open = objectNodes(bodyJsonSchema(route)).filter(
        ({ node }) => node.additionalProperties !== false,
      );
      expect(open.map(({ path }) => path)).toEqual([]);
    },
  );

  it.each(liveBodyRoutes.map((route) => [routeLabel(route), route] as const))(
    '%s: role / orgId / ownerId smuggled into the body → 400',
    async (_, route) => {
      const declared = Object.keys(bodyJsonSchema(route).properties ?? {});
      const smuggled = ['role', 'orgId', 'ownerId'].filter((key) => !declared.includes(key));
      const response = await probe(opened.app, route, {
        headers: credentials(route),
        payload: { role: 'admin', orgId: randomUUID(), ownerId: randomUUID() },
      });
      const problem = expectProblem(response, 400, 'validation-failed');
      const unrecognized = (problem.issues as { message: string }[])
        .map((issue) => issue.message)
        .filter((message) => /unrecognized key/i.test(message))
        .join(' ');
      for (const key of smuggled) expect(unrecognized).toContain(`"${key}"`);
    },
  );

  const pollution = {
    '__proto__ at the top': '{"name":"x","__proto__":{"role":"admin","isAdmin":true}}',
    '__proto__ nested': '{"name":"x","nested":{"__proto__":{"role":"admin"}}}',
    'constructor.prototype': '{"name":"x","constructor":{"prototype":{"role":"admin"}}}',
  };
  it.each(
    liveUnsafeRoutes.flatMap((route) =>
      Object.entries(pollution).map(
        ([label, payload]) => [routeLabel(route), label, route, payload] as const,
      ),
    ),
  )('%s: %s → 400 (415 on tus) problem+json, never 500', async (_, __, route, payload) => {
    const response = await probe(opened.app, route, {
      headers: { ...credentials(route), 'content-type': 'application/json' },
      payload,
    });
    // tus routes parse no JSON at all: only application/offset+octet-stream bodies.
    if (route.url.startsWith('/api/v1/uploads')) expectProblem(response, 415, 'unsupported-content-type');
    else expectProblem(response, 400);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });
});
