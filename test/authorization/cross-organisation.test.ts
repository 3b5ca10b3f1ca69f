import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import type { ApiKeyRole } from '../../src/db/schema.js';
import type { CatalogedRoute } from '../../src/http/route-catalog.js';
import { createWebhookRepository } from '../../src/repositories/webhook.repository.js';
import { uploadMultipart } from '../e2e/upload-flow.js';
import { Client, strongPassword } from '../helpers/account-app.js';
import { bearer, createOrganisationWithKeys, openPlatformApp, type RoleKeys } from './platform-app.js';
import {
  expectProblem,
  fillPath,
  isSessionOnly,
  paramNames,
  policyOf,
  probe,
  routeLabel,
} from './route-matrix.js';

interface FixtureContext {
  app: FastifyInstance;
  platform: Platform;
  baseUrl: string;
  workDir: string;
  orgA: { orgId: string; keys: RoleKeys };
  /** The media uploaded for org A (several fixtures share it). */
  upload(): Promise<{ id: string; analysisId: string }>;
}

/**
 * A real resource of organisation A per collection (the path before the first `:param`). A route with an id
 * under a collection that has no fixture fails the matrix: add one here when adding such a route.
 */
interface ResourceFixture {
  create(context: FixtureContext): Promise<string>;
  /** A body valid for the route, so only the organisation check can refuse org B's request. */
  body?: object;
  /** Organisation A still sees the resource as it was. */
  intact(context: FixtureContext, id: string): Promise<void>;
}

const getAs = (context: FixtureContext, role: ApiKeyRole, url: string) =>
  context.app.inject({ method: 'GET', url, headers: bearer(context.orgA.keys[role]) });

const fixtures: Record<string, ResourceFixture> = {
  '/api/v1/media': {
    create: async (context) => (await context.upload()).id,
    async intact(context, id) {
      expect((await getAs(context, 'viewer', `/api/v1/media/${id}`)).statusCode).toBe(200);
    },
  },
  '/api/v1/analyses': {
    create: async (context) => (await context.upload()).analysisId,
    async intact(context, id) {
      expect((await getAs(context, 'viewer', `/api/v1/analyses/${id}`)).statusCode).toBe(200);
    },
  },
  '/api/v1/api-keys': {
    async create(context) {
      const response = await context.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(context.orgA.keys.admin),
        payload: { name: 'fixture key', role: 'analyst' },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ id: string }>().id;
    },
    async intact(context, id) {
      const { items } = (await getAs(context, 'admin', '/api/v1/api-keys')).json<{
        items: { id: string; revokedAt: string | null }[];
      }>();
      expect(items.find((key) => key.id === id)).toMatchObject({ revokedAt: null });
    },
  },
  '/api/v1/uploads': {
    async create(context) {
      const response = await context.app.inject({
        method: 'POST',
        url: '/api/v1/uploads',
        headers: { ...bearer(context.orgA.keys.analyst), 'tus-resumable': '1.0.0', 'upload-length': '4096' },
      });
      expect(response.statusCode, response.body).toBe(201);
      return String(response.headers.location).split('/').at(-1) ?? '';
    },
    async intact(context, id) {
      const response = await context.app.inject({
        method: 'HEAD',
        url: `/api/v1/uploads/${id}`,
        headers: { ...bearer(context.orgA.keys.analyst), 'tus-resumable': '1.0.0' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['upload-offset']).toBe('0');
    },
  },
  '/api/v1/shares': {
    async create(context) {
      // Only a finished report can be shared through the API; the fixture's analysis is still queued.
      const { analysisId } = await context.upload();
      const share = await context.platform.repositories.reportShares.create({
        orgId: context.orgA.orgId,
        analysisId,
        tokenHash: randomBytes(32).toString('hex'),
        label: null,
        includeMedia: false,
        createdBy: { type: 'api-key', id: randomUUID() },
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      return share.id;
    },
    async intact(context, id) {
      const { analysisId } = await context.upload();
      const { items } = (await getAs(context, 'analyst', `/api/v1/analyses/${analysisId}/shares`)).json<{
        items: { id: string; status: string }[];
      }>();
      expect(items.find((share) => share.id === id)).toMatchObject({ status: 'active' });
    },
  },
  '/api/v1/webhooks': {
    // Through the repository: the API would refuse this documentation address as a destination (never sent).
    create: async (context) => (await webhookFixture(context)).id,
    body: { description: 'changed by the other organisation' },
    async intact(context, id) {
      const response = await getAs(context, 'admin', `/api/v1/webhooks/${id}`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ description: 'fixture', enabled: true });
    },
  },
  '/api/v1/webhook-deliveries': {
    async create(context) {
      const endpoint = await webhookFixture(context);
      const [delivery] = await createWebhookRepository({ db: context.platform.database.db }).createDeliveries(
        [
          {
            orgId: context.orgA.orgId,
            endpointId: endpoint.id,
            eventId: 'msg_fixture',
            eventType: 'webhook.test',
            payload: '{}',
            at: new Date(),
          },
        ],
      );
      return delivery!.id;
    },
    async intact(context, id) {
      const response = await getAs(context, 'admin', `/api/v1/webhook-deliveries/${id}`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ redeliveryOf: null });
    },
  },
  // Flags are the deployment's, managed by the operator's organisations (none here): org B's admin is 404.
  '/api/v1/feature-flags': {
    async create(context) {
      const flag = await context.platform.services.featureFlagService.create(
        {
          key: 'cross-org.fixture',
          type: 'boolean',
          description: 'fixture',
          enabled: true,
          variants: { on: true, off: false },
          defaultVariant: 'on',
          rollout: null,
        },
        { actor: { type: 'cli', id: null }, auditOrgId: null },
      );
      return flag.key;
    },
    body: { enabled: false },
    async intact(context, key) {
      const flag = await context.platform.services.featureFlagService.get(key);
      expect(flag).toMatchObject({ enabled: true, rollout: null, overrides: [] });
    },
  },
  '/api/v1/users': {
    async create(context) {
      // No route creates people yet (invitations do); the repository is the only way in.
      const { users } = context.platform.repositories as unknown as {
        users: { create(input: object): Promise<{ id: string }> };
      };
      const created = await users.create({
        orgId: context.orgA.orgId,
        email: `fixture-${context.orgA.orgId}@example.com`,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
        role: 'analyst',
      });
      return created.id;
    },
    body: { role: 'viewer', status: 'disabled' },
    async intact(context, id) {
      const body = (await getAs(context, 'admin', '/api/v1/users')).json<Record<string, unknown>>();
      const users = (body.users ?? body.items) as { id: string; role: string; status: string }[];
      expect(users.find((user) => user.id === id)).toMatchObject({ role: 'analyst', status: 'active' });
    },
  },
};

async function webhookFixture(context: FixtureContext): Promise<{ id: string }> {
  return createWebhookRepository({ db: context.platform.database.db }).createEndpoint({
    id: randomUUID(),
    orgId: context.orgA.orgId,
    url: 'https://192.0.2.1/hook',
    description: 'fixture',
    eventTypes: ['analysis.completed'],
    secretSealed: randomBytes(64),
    createdBy: { type: 'api-key', id: randomUUID() },
    at: new Date(),
  });
}

/** Bodies for routes whose collection's fixture body does not fit them (valid, so only the org check refuses). */
const routeBodies: Record<string, object> = {
  'PUT /api/v1/media/:id/legal-hold': { reason: 'case 1' },
  'POST /api/v1/users/:id/erasure': { confirmEmail: 'someone@example.com' },
  'PUT /api/v1/feature-flags/:key/rollout': { rollout: [{ variant: 'off', weight: 1 }] },
  'PUT /api/v1/feature-flags/:key/overrides/:orgId': { variant: 'off' },
};

/** A signed-in person with a live session. */
interface SignedIn {
  client: Client;
  sessionId: string;
}

async function signIn(context: FixtureContext, orgId: string, role: ApiKeyRole): Promise<SignedIn> {
  const email = `${role}-${randomUUID().slice(0, 8)}@example.com`;
  await context.platform.services.userService.create(
    { orgId, email, password: strongPassword, role },
    { actor: { type: 'cli', id: null } },
  );
  const client = new Client(context.app);
  const login = await client.login(email);
  expect(login.statusCode, login.body).toBe(200);
  const me = await client.get('/api/v1/me');
  expect(me.statusCode, me.body).toBe(200);
  return { client, sessionId: me.json<{ session: { id: string } }>().session.id };
}

/**
 * For the routes only signed-in people use, keyed like `fixtures`: a resource of one person of org A (the
 * owner), probed by a person of org B and by another person of org A, who must both get 404.
 */
interface SessionResourceFixture {
  create(context: FixtureContext, owner: SignedIn): Promise<string>;
  /** The owner still has the resource as it was. */
  intact(owner: SignedIn, id: string): Promise<void>;
}

const sessionFixtures: Record<string, SessionResourceFixture> = {
  '/api/v1/auth/sessions': {
    create: async (_, owner) => owner.sessionId,
    async intact(owner, id) {
      expect((await owner.client.get('/api/v1/me')).statusCode).toBe(200);
      const listed = await owner.client.get('/api/v1/auth/sessions');
      const { sessions } = listed.json<{ sessions: { id: string; current: boolean }[] }>();
      expect(sessions).toContainEqual(expect.objectContaining({ id, current: true }));
    },
  },
};

const opened = await openPlatformApp();
const idRoutes = opened.app.routeCatalog.filter(
  (route) => paramNames(route.url).length > 0 && policyOf(route) !== 'public',
);
// Methods that address no existing resource: OPTIONS is capability discovery, and a tus POST creates a new
// upload in the caller's own organisation whatever id the path carries.
const addressesNoResource = (route: CatalogedRoute) =>
  route.method === 'OPTIONS' || (route.method === 'POST' && route.url.startsWith('/api/v1/uploads/'));
const keyIdRoutes = idRoutes.filter((route) => !isSessionOnly(route) && !addressesNoResource(route));
const sessionIdRoutes = idRoutes.filter(isSessionOnly);

const collectionOf = (route: CatalogedRoute) => route.url.slice(0, route.url.indexOf('/:'));
const collections = [...new Set(keyIdRoutes.map(collectionOf))];

/** A key of org B whose role the route admits (admin where possible): only the organisation differs. */
function roleFor(route: CatalogedRoute): ApiKeyRole {
  const { roles } = policyOf(route) as { roles: readonly ApiKeyRole[] };
  return roles.includes('admin') ? 'admin' : (roles[0] ?? 'admin');
}

let context: FixtureContext;
let orgBKeys: RoleKeys;
let orgBId: string;
const ids = new Map<string, string>();

beforeAll(async () => {
  const [orgA, orgB] = [
    await createOrganisationWithKeys(opened.platform, 'Org A'),
    await createOrganisationWithKeys(opened.platform, 'Org B'),
  ];
  orgBKeys = orgB.keys;
  orgBId = orgB.orgId;
  const baseUrl = await opened.app.listen({ host: '127.0.0.1', port: 0 });
  const clip = join(opened.dataDir, 'clip.mp4');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '1'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', clip],
  ]);
  let uploaded: Promise<{ id: string; analysisId: string }> | undefined;
  context = {
    app: opened.app,
    platform: opened.platform,
    baseUrl,
    workDir: opened.dataDir,
    orgA,
    upload() {
      uploaded ??= uploadMultipart(baseUrl, orgA.keys.analyst, clip).then(async (response) => {
        const body = (await response.json()) as { id: string; analysisId: string };
        expect(response.status, JSON.stringify(body)).toBe(201);
        return body;
      });
      return uploaded;
    },
  };
  for (const collection of collections) {
    const fixture = fixtures[collection];
    if (fixture) ids.set(collection, await fixture.create(context));
  }
});

afterAll(() => opened.close());

describe('two-organisation matrix: every route with an id answers 404 to another organisation', () => {
  it('has a fixture for every collection with id routes', () => {
    expect(collections.filter((collection) => !fixtures[collection])).toEqual([]);
    expect(collections).toEqual(
      expect.arrayContaining(['/api/v1/media', '/api/v1/analyses', '/api/v1/api-keys', '/api/v1/uploads']),
    );
    expect(keyIdRoutes.map(routeLabel)).toContain('GET /api/v1/analyses/:id/evidence');
    expect(keyIdRoutes.map(routeLabel)).toEqual(
      expect.arrayContaining(['POST /api/v1/media/:id/analyses', 'DELETE /api/v1/media/:id']),
    );
    expect(keyIdRoutes.map(routeLabel)).toContain('GET /api/v1/analyses/:id/report.pdf');
  });

  it.each(keyIdRoutes.map((route) => [routeLabel(route), route] as const))(
    "%s with org A's resource and org B's key → 404",
    async (_, route) => {
      const collection = collectionOf(route);
      const id = ids.get(collection);
      expect(id, `fixture for ${collection}`).toBeDefined();
      const [firstParam = 'id'] = paramNames(route.url);
      const headers: Record<string, string> = bearer(orgBKeys[roleFor(route)]);
      if (collection === '/api/v1/uploads') {
        headers['tus-resumable'] = '1.0.0';
        if (route.method === 'PATCH') {
          Object.assign(headers, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' });
        }
      }
      const fixtureBody = routeBodies[routeLabel(route)] ?? fixtures[collection]?.body;
      const response = await probe(opened.app, route, {
        path: fillPath(route.url, { [firstParam]: id ?? '' }),
        headers,
        ...(route.schema?.body && fixtureBody ? { payload: fixtureBody } : {}),
      });
      if (route.method === 'HEAD') {
        expect(response.statusCode, response.body).toBe(404);
        return;
      }
      expectProblem(response, 404);
    },
  );

  it("leaves org A's resources as they were", async () => {
    for (const [collection, id] of ids) await fixtures[collection]?.intact(context, id);
  });

  it('has a session fixture for every collection with session-only id routes', () => {
    const sessionCollections = [...new Set(sessionIdRoutes.map(collectionOf))];
    expect(sessionCollections.filter((collection) => !sessionFixtures[collection])).toEqual([]);
    expect(sessionIdRoutes.map(routeLabel)).toContain('DELETE /api/v1/auth/sessions/:id');
  });

  it.each(sessionIdRoutes.map((route) => [routeLabel(route), route] as const))(
    "%s with an org A person's resource, as a person of org B and as another person of org A → 404",
    async (_, route) => {
      const fixture = sessionFixtures[collectionOf(route)];
      expect(fixture, `session fixture for ${collectionOf(route)}`).toBeDefined();
      if (!fixture) return;
      const owner = await signIn(context, context.orgA.orgId, 'analyst');
      const id = await fixture.create(context, owner);
      const [firstParam = 'id'] = paramNames(route.url);
      const path = fillPath(route.url, { [firstParam]: id });
      const orgBAdmin = await signIn(context, orgBId, 'admin');
      const orgAColleague = await signIn(context, context.orgA.orgId, 'admin');
      for (const prober of [orgBAdmin, orgAColleague]) {
        expectProblem(await prober.client.request(route.method as 'DELETE', path), 404, 'not-found');
        // The prober's own session is untouched as well: the 404 is not a side effect of ending theirs.
        expect((await prober.client.get('/api/v1/me')).statusCode).toBe(200);
      }
      await fixture.intact(owner, id);
      // The control: the same request by the owner succeeds, so the 404s were about whose resource it is.
      const own = await owner.client.request(route.method as 'DELETE', path);
      expect(own.statusCode, own.body).toBeLessThan(300);
    },
  );
});
