import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { notFound } from '../../src/services/errors.js';
import { CallLog } from '../services/strict-fake.js';
import {
  analysisRow,
  authorized,
  buildFakeApp,
  expectProblem,
  mediaRow,
  multipartBody,
  principal,
  validKey,
  type FakeCollaborators,
} from './fake-app.js';

let log = new CallLog();
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  const { unexpected } = log;
  log = new CallLog();
  expect(unexpected, 'calls the test did not expect').toEqual([]);
});

async function start(fakes: FakeCollaborators = {}): Promise<FastifyInstance> {
  app = await buildFakeApp(log, fakes);
  return app;
}

/** Each (method, concrete url) pair the app serves, from its route catalog, with path parameters filled in. */
function servedRoutes(): { method: HTTPMethods; url: string; access: unknown; template: string }[] {
  return (app?.routeCatalog ?? []).map((route) => ({
    method: route.method as HTTPMethods,
    template: route.url,
    url: route.url.replace(/:[A-Za-z]+/g, () => randomUUID()),
    access: route.config.access,
  }));
}

let addresses = 0;
const nextAddress = () => {
  addresses += 1;
  return `198.18.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
};

/** Public on purpose: the landing and health routes, and the sign-in entry points that take credentials. */
const healthTemplates = ['/livez', '/readyz'];
// The web app's HTML and hashed static files: the pages themselves ask the API for anything private.
const webAppTemplates = ['/', '/*', '/assets/*', '/sw.js', '/favicon.svg'];
// The user guides the help page links to: fixed files of the package's docs/, the same as in the repository.
const guideTemplates = ['/docs/user-guide.md', '/docs/verification.md', '/docs/detectors.md'];
// Anyone holding a bundle may check it: its proofs, the log's public keys and the verifier need no account.
const publicEvidence = [
  'GET /api/v1/log/proofs/inclusion',
  'GET /api/v1/log/proofs/consistency',
  'GET /api/v1/log/keys',
  'POST /api/v1/verify',
  // The signature or share token in the URL is the authorisation (docs/signed-links-and-shares.md).
  'GET /api/v1/signed/media/:id/content',
  'GET /api/v1/signed/analyses/:id/artifacts/:detector/:name',
  'GET /api/v1/shared-reports/:token',
];

function allowedPublic(route: { method: string; template: string }): boolean {
  const health = healthTemplates.includes(route.template);
  return (
    ((health || webAppTemplates.includes(route.template) || guideTemplates.includes(route.template)) &&
      (route.method === 'GET' || route.method === 'HEAD')) ||
    (route.method === 'POST' && route.template.startsWith('/api/v1/auth/')) ||
    // Whether this browser is signed in: answers for the caller's own cookie only.
    ((route.method === 'GET' || route.method === 'HEAD') && route.template === '/api/v1/session') ||
    // Fastify answers HEAD wherever it answers GET.
    publicEvidence.includes(`${route.method === 'HEAD' ? 'GET' : route.method} ${route.template}`)
  );
}

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function expectSecurityHeaders(headers: Record<string, unknown>) {
  expect(headers).toMatchObject(securityHeaders);
  expect(String(headers['content-security-policy'])).toMatch(/(^|;)\s*default-src 'none'\s*(;|$)/);
}

describe('access control over every registered route', () => {
  it('sees the routes the app registers', async () => {
    await start();
    const templates = servedRoutes().map((route) => route.template);
    expect(templates).toEqual(
      expect.arrayContaining([
        '/livez',
        '/readyz',
        '/api/v1/media',
        '/api/v1/media/:id',
        '/api/v1/analyses/:id',
        '/api/v1/events',
        '/api/v1/uploads',
        '/api/v1/uploads/:uploadId',
        '/api/v1/openapi.json',
      ]),
    );
  });

  it('every route states an access policy', async () => {
    await start();
    const withoutPolicy = servedRoutes().filter((route) => route.access === undefined);
    expect(withoutPolicy.map((route) => `${route.method} ${route.template}`)).toEqual([]);
  });

  it('every non-public route answers 401 problem+json without credentials, and with a wrong key', async () => {
    const server = await start();
    const guarded = servedRoutes().filter((route) => route.access !== 'public');
    expect(guarded.length).toBeGreaterThan(5);
    for (const route of guarded) {
      for (const headers of [
        {},
        { authorization: `Bearer sag_${'x'.repeat(43)}` },
        { authorization: 'Basic x' },
      ]) {
        // Each from its own address: refused credentials are rate-limited per address, not what is tested here.
        const response = await server.inject({
          method: route.method,
          url: route.url,
          headers,
          remoteAddress: nextAddress(),
        });
        const label = `${route.method} ${route.template} ${JSON.stringify(headers)}`;
        expect(response.statusCode, label).toBe(401);
        expectProblem(response, 401, route.method === 'HEAD' ? undefined : 'unauthenticated');
        expectSecurityHeaders(response.headers);
      }
    }
  });

  it('makes public only health routes and sign-in entry points (widen allowedPublic deliberately)', async () => {
    await start();
    const publicRoutes = servedRoutes().filter((route) => route.access === 'public');
    expect(publicRoutes.map((route) => `${route.method} ${route.template}`)).toEqual(
      expect.arrayContaining(['GET /livez', 'GET /readyz']),
    );
    const unexpected = publicRoutes.filter((route) => !allowedPublic(route));
    expect(unexpected.map((route) => `${route.method} ${route.template}`)).toEqual([]);
  });

  it('serves the public health routes without credentials', async () => {
    const server = await start();
    const open = servedRoutes().filter(
      (route) =>
        route.access === 'public' && route.method === 'GET' && healthTemplates.includes(route.template),
    );
    expect(open.map((route) => route.template)).toEqual(expect.arrayContaining(['/livez', '/readyz']));
    for (const route of open) {
      const response = await server.inject({ url: route.url });
      expect(response.statusCode, `${route.template}: ${response.body}`).toBe(200);
      expectSecurityHeaders(response.headers);
    }
  });

  it('does not serve TRACE on any path', async () => {
    const server = await start();
    expect(servedRoutes().filter((route) => route.method === 'TRACE')).toEqual([]);
    for (const url of ['/livez', '/api/v1/media', `/api/v1/analyses/${randomUUID()}`]) {
      const response = await server.inject({ method: 'TRACE', url, headers: authorized });
      expect([404, 405]).toContain(response.statusCode);
      expect(response.body).not.toContain(validKey);
    }
  });
});

describe('problem+json errors', () => {
  it('rejects a path parameter that is not a UUID with 400 validation-failed', async () => {
    const server = await start();
    for (const url of ['/api/v1/media/not-a-uuid', "/api/v1/analyses/1'%20or%201=1--"]) {
      const body = expectProblem(await server.inject({ url, headers: authorized }), 400, 'validation-failed');
      expect(body.detail).toBeTruthy();
    }
  });

  it('answers an unknown route with 404 route-not-found, with or without credentials', async () => {
    const server = await start();
    for (const headers of [{}, authorized]) {
      const response = await server.inject({ url: '/api/v1/nothing-here?x=1', headers });
      const body = expectProblem(response, 404, 'route-not-found');
      expect(body.detail).toBe('no route for GET /api/v1/nothing-here');
      expectSecurityHeaders(response.headers);
    }
  });

  it('answers a service throwing a plain Error with 500 internal-error and a generic detail', async () => {
    const leaky = new Error('connect ECONNREFUSED postgres://guardian:hunter2@db:5432/guardian');
    leaky.stack = `${leaky.message}\n    at Pool.connect (/app/node_modules/pg/lib/pool.js:45:11)`;
    const server = await start({
      analysisService: {
        get: async () => {
          throw leaky;
        },
      },
      mediaService: {
        get: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'sha256')");
        },
      },
    });
    for (const url of [`/api/v1/analyses/${randomUUID()}`, `/api/v1/media/${randomUUID()}`]) {
      const response = await server.inject({ url, headers: authorized });
      const body = expectProblem(response, 500, 'internal-error');
      expect(body.detail).toBe('an unexpected error occurred; it was logged');
      expect(response.body).not.toMatch(/hunter2|postgres:|ECONNREFUSED|sha256|TypeError/);
    }
  });

  it('maps a service AppError to its status and code (the org of the caller is passed along)', async () => {
    const server = await start({
      analysisService: {
        get: async () => {
          throw notFound('analysis');
        },
      },
    });
    const id = randomUUID();
    const response = await server.inject({ url: `/api/v1/analyses/${id}`, headers: authorized });
    expectProblem(response, 404, 'not-found');
    expect(log.callsTo('analysisService.get')[0]?.args).toEqual([principal.orgId, id]);
  });
});

describe('response headers', () => {
  it('sends the security headers on public, authenticated and error responses', async () => {
    const analysis = analysisRow();
    const server = await start({ analysisService: { get: async () => analysis } });
    for (const request of [
      { url: '/livez' },
      { url: `/api/v1/analyses/${analysis.id}`, headers: authorized },
      { url: '/api/v1/analyses/nope', headers: authorized },
    ]) {
      expectSecurityHeaders((await server.inject(request)).headers);
    }
  });

  it('marks authenticated responses Cache-Control: no-store, success or error', async () => {
    const analysis = analysisRow({ status: 'running', progress: 0.5 });
    const server = await start({
      analysisService: {
        get: async (_orgId, id) => {
          if (id === analysis.id) return analysis;
          throw notFound('analysis');
        },
      },
    });
    const ok = await server.inject({ url: `/api/v1/analyses/${analysis.id}`, headers: authorized });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ id: analysis.id, status: 'running', progress: 50 });
    expect(ok.headers['cache-control']).toBe('no-store');
    const missing = await server.inject({ url: `/api/v1/analyses/${randomUUID()}`, headers: authorized });
    expectProblem(missing, 404, 'not-found');
    expect(missing.headers['cache-control']).toBe('no-store');
  });
});

describe('POST /api/v1/media', () => {
  it('accepts the file in the field `file` (the upload reaches the service as a stream)', async () => {
    const media = mediaRow();
    const analysis = analysisRow({ media_id: media.id });
    const received: Buffer[] = [];
    const server = await start({
      mediaService: {
        upload: async (input) => {
          for await (const chunk of input.source as Readable) received.push(chunk as Buffer);
          return {
            id: media.id,
            sha256: media.sha256,
            sizeBytes: 4,
            mimeType: 'video/mp4',
            originalFilename: input.filename,
            analysisId: analysis.id,
            analysisStatus: 'queued',
            createdAt: media.created_at,
          };
        },
        get: async () => media,
      },
      analyses: { findById: async () => analysis },
    });
    const { payload, headers } = multipartBody('file', Buffer.from('abcd'));
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/media',
      payload,
      headers: { ...headers, ...authorized },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ id: media.id, analysisId: analysis.id });
    expect(Buffer.concat(received).toString()).toBe('abcd');
  });

  it('answers 400 file-missing when the file comes under another field name', async () => {
    const server = await start();
    const { payload, headers } = multipartBody('upload', Buffer.from('abcd'));
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/media',
      payload,
      headers: { ...headers, ...authorized },
    });
    const body = expectProblem(response, 400, 'file-missing');
    expect(body.detail).toContain('upload');
  });

  /** A multipart body of text fields, then (optionally) one file part named `file`. */
  function formBody(fields: [string, string][], file?: Buffer) {
    const boundary = `----guardian${randomUUID()}`;
    const parts = fields.map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
    const filePart = file
      ? [
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\n` +
              'Content-Type: video/mp4\r\n\r\n',
          ),
          file,
          Buffer.from('\r\n'),
        ]
      : [];
    return {
      payload: Buffer.concat([Buffer.from(parts.join('')), ...filePart, Buffer.from(`--${boundary}--\r\n`)]),
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...authorized },
    };
  }

  it.each([
    ['an empty multipart body', []],
    ['a body with a text field and no file', [['note', 'hello']]],
    [
      'a body with several text fields and no file',
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    ],
  ] as [string, [string, string][]][])('answers 400 file-missing to %s', async (_, fields) => {
    const server = await start();
    const response = await server.inject({ method: 'POST', url: '/api/v1/media', ...formBody(fields) });
    expectProblem(response, 400, 'file-missing');
  });

  it('reads past a few text fields to the file (the fields are ignored)', async () => {
    const media = mediaRow();
    const analysis = analysisRow({ media_id: media.id });
    const received: Buffer[] = [];
    const server = await start({
      mediaService: {
        upload: async (input) => {
          for await (const chunk of input.source as Readable) received.push(chunk as Buffer);
          return {
            id: media.id,
            sha256: media.sha256,
            sizeBytes: 4,
            mimeType: 'video/mp4',
            originalFilename: input.filename,
            analysisId: analysis.id,
            analysisStatus: 'queued',
            createdAt: media.created_at,
          };
        },
        get: async () => media,
      },
      analyses: { findById: async () => analysis },
    });
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/media',
      ...formBody(
        [
          ['title', 'x'.repeat(5000)],
          ['note', 'n'],
        ],
        Buffer.from('abcd'),
      ),
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(Buffer.concat(received).toString()).toBe('abcd');
  });

  it('answers 400 too-many-fields to more text fields than the limit', async () => {
    const server = await start();
    const fields = Array.from({ length: 9 }, (_, index): [string, string] => [`f${index}`, 'v']);
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/media',
      ...formBody(fields, Buffer.from('abcd')),
    });
    expectProblem(response, 400, 'too-many-fields');
  });

  it('answers 415 to a body that is not multipart/form-data', async () => {
    const server = await start();
    for (const [contentType, payload] of [
      ['application/json', JSON.stringify({ file: 'AAAA' })],
      ['text/plain', 'hello'],
      ['application/octet-stream', Buffer.from([0, 0, 0, 0x18])],
      ['video/mp4', Buffer.from([0, 0, 0, 0x18])],
    ] as const) {
      const response = await server.inject({
        method: 'POST',
        url: '/api/v1/media',
        payload,
        headers: { 'content-type': contentType, ...authorized },
      });
      expect(response.statusCode, `${contentType}: ${response.body}`).toBe(415);
      const body = expectProblem(response, 415);
      expect(['multipart-required', 'unsupported-content-type']).toContain(body.code);
    }
  });

  it('refuses a role that may not write with 403 forbidden, before reading the body', async () => {
    const server = await start({ role: 'viewer' });
    const { payload, headers } = multipartBody('file', Buffer.from('abcd'));
    const response = await server.inject({
      method: 'POST',
      url: '/api/v1/media',
      payload,
      headers: { ...headers, ...authorized },
    });
    expectProblem(response, 403, 'forbidden');
  });
});
