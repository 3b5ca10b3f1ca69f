import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { CatalogedRoute } from '../../src/http/route-catalog.js';
import { nextClientAddress } from './platform-app.js';

/** What `config.access` holds, read loosely so policies other engineers extend still classify. */
export type RoutePolicy = 'public' | { roles: readonly string[]; actor?: string } | undefined;

export const policyOf = (route: CatalogedRoute) => route.config.access as RoutePolicy;

/** Routes only a signed-in person may use (`actor: 'user'`): API keys cannot exercise their roles. */
export function isSessionOnly(route: CatalogedRoute): boolean {
  const policy = policyOf(route);
  return typeof policy === 'object' && policy.actor === 'user';
}

export const routeLabel = (route: CatalogedRoute) => `${route.method} ${route.url}`;

export const paramNames = (url: string) => [...url.matchAll(/:(\w+)/g)].map((match) => match[1] ?? '');

/** The URL with each `:param` replaced (unknown ones by a random UUID, which matches no resource). */
export function fillPath(url: string, values: Record<string, string> = {}): string {
  return url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name] ?? randomUUID()));
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const isUnsafe = (route: CatalogedRoute) => unsafeMethods.has(route.method);

/** Each probe comes from its own client address, so no per-address limit interferes. */
export function probe(
  app: FastifyInstance,
  route: CatalogedRoute,
  options: { path?: string; headers?: Record<string, string>; payload?: string | object } = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: route.method as 'GET',
    url: options.path ?? fillPath(route.url),
    remoteAddress: nextClientAddress(),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.payload !== undefined ? { payload: options.payload } : {}),
  });
}

const stackTrace = /\n\s+at |node_modules|\.[cm]?[jt]s:\d+/;

/** An RFC 9457 problem with this status (and code) and nothing from a stack trace; HEAD has headers only. */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code?: string,
): Record<string, unknown> {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).not.toMatch(stackTrace);
  if (response.body === '') return {};
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
  });
  if (code) expect(body.code).toBe(code);
  return body;
}
