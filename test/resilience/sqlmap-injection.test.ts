import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
} from '../authorization/platform-app.js';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { deleteRedisKeys, redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import { reportFigure } from './figures.js';
import { runAll, sqlmapUnavailable, type SqlmapResult, type SqlmapSettings } from './sqlmap-runner.js';
import {
  credentialHeaderTarget,
  marker,
  parameterisedOperations,
  targetsOf,
  type InjectionTarget,
  type OpenApiDocument,
  type TargetContext,
} from './sqlmap-targets.js';
import { startVulnerableServer } from './vulnerable-sql-server.js';

// Short form in `npm test`: route coverage, the calibration, one real route at level 1. Full form: every route.
const full = process.env.RESILIENCE === 'full';
const suite = 'injection';

if (sqlmapUnavailable && process.env.CI === 'true')
  throw new Error(`CI needs this suite: ${sqlmapUnavailable}`);

/** The limits raised for the scan (each request of sqlmap must reach the route, not a 429); see docs. */
const scanLimits = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
  REFUSED_CREDENTIALS_PER_MINUTE: '1000000',
  LOGIN_ATTEMPTS_PER_IP: '1000000',
};

/** The document the server serves, and its operations that take input (the "parameterised routes"). */
async function servedOpenApi(baseUrl: string, key: string): Promise<OpenApiDocument> {
  const response = await fetch(`${baseUrl}/api/v1/openapi.json`, {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

const summary = (results: SqlmapResult[]) =>
  results.map((r) => ({
    target: `${r.target.credential} ${r.target.operation}`,
    injectable: r.injectable,
    fault: r.fault,
    requests: r.requests,
    rateLimited: r.rateLimited,
  }));

describe.skipIf(sqlmapUnavailable !== null)('sqlmap finds no SQL injection in the live route table', () => {
  describe('short form (also part of the full form)', () => {
    let opened: PlatformApp;
    let baseUrl: string;
    let key: string;
    let document: OpenApiDocument;

    beforeAll(async () => {
      opened = await openPlatformApp(scanLimits);
      baseUrl = await opened.app.listen({ host: '127.0.0.1', port: 0 });
      key = (await createOrganisationWithKeys(opened.platform, 'Injection')).keys.admin;
      document = await servedOpenApi(baseUrl, key);
    }, 60_000);

    afterAll(() => opened?.close());

    it('builds a sqlmap target, with every input marked, for every route of the route table that takes input', () => {
      const documented = new Set(
        parameterisedOperations(document).map((o) => `${o.method.toUpperCase()} ${o.path}`),
      );
      // Routes that take input but are missing from the served document would escape the scan: none may.
      const undocumented = opened.app.routeCatalog
        .filter((route) => !route.websocket && route.method !== 'HEAD' && route.method !== 'OPTIONS')
        .filter((route) => route.url.includes(':') || route.schema?.querystring || route.schema?.body)
        .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
        .filter((operation) => !documented.has(operation));
      expect(undocumented).toEqual([]);
      expect(documented.size).toBeGreaterThan(40);
      const context: TargetContext = { baseUrl, credentials: { 'api-key': { authorization: 'Bearer k' } } };
      let points = 0;
      for (const { path, method } of parameterisedOperations(document)) {
        const targets = targetsOf(document, path, method, context);
        expect(targets.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const target of targets) {
          const markers =
            [target.url, target.body ?? '', ...target.headers.map(([, value]) => value)]
              .join('\n')
              .split(marker).length - 1;
          expect(markers, `${method} ${path}: one marker per input`).toBe(target.points.length);
          expect(target.points.length, `${method} ${path}`).toBeGreaterThan(0);
          points += target.points.length;
        }
      }
      reportFigure({
        suite,
        measure: 'routes taking input / places to inject (served OpenAPI document)',
        value: `${documented.size} operations / ${points} places (× credential)`,
        target: 'every route that takes input has a target',
        met: undocumented.length === 0,
      });
    });

    it('reports the deliberately injectable handler injectable (path, query, JSON body and header)', async () => {
      const vulnerable = await startVulnerableServer();
      try {
        const targets = parameterisedOperations(vulnerable.openApi).flatMap(({ path, method }) =>
          targetsOf(vulnerable.openApi, path, method, { baseUrl: vulnerable.url, credentials: {} }).slice(
            0,
            1,
          ),
        );
        expect(targets).toHaveLength(4);
        // Boolean, error and UNION techniques: PGlite runs one query at a time, so pg_sleep would stall it.
        const results = await runAll(
          targets,
          () => ({ level: 1, risk: 1, processTimeoutMs: 90_000, technique: 'BEU' }),
          4,
        );
        for (const result of results) {
          expect(result.fault, result.output.slice(-3000)).toBeNull();
          expect(result.injectable, `${result.target.operation}\n${result.output.slice(-3000)}`).toHaveLength(
            1,
          );
        }
        reportFigure({
          suite,
          measure: 'calibration: injectable handler (path, query, JSON body, header)',
          value: `${results.filter((r) => r.injectable.length > 0).length} of 4 reported injectable`,
          target: '4 of 4',
          met: results.every((r) => r.injectable.length > 0),
        });
      } finally {
        await vulnerable.close();
      }
    }, 120_000);

    it('finds GET /api/v1/media?q= (a raw sql template) not injectable at level 1, unthrottled', async () => {
      const target = targetsOf(document, '/api/v1/media', 'get', {
        baseUrl,
        credentials: { 'api-key': { authorization: `Bearer ${key}` } },
      }).find((candidate) => candidate.points[0] === 'query q');
      const [result] = await runAll([target!], () => ({ level: 1, risk: 1, processTimeoutMs: 90_000 }), 1);
      expect(result!.fault, result!.output.slice(-3000)).toBeNull();
      expect(result!.injectable).toEqual([]);
      expect(result!.tested).toHaveLength(target!.points.length);
      expect(result!.rateLimited).toBe(0);
      expect(
        result!.statuses['200'] ?? 0,
        `the baseline reached the route: ${JSON.stringify(result!.statuses)} ${result!.target.url}`,
      ).toBeGreaterThan(0);
      reportFigure({
        suite,
        measure: 'short form: GET /api/v1/media?q= (ilike over a raw sql template), level 1',
        value: `${result!.injectable.length} injectable, ${result!.requests} requests`,
        target: '0 injectable',
        met: result!.injectable.length === 0,
      });
    }, 120_000);
  });

  const redis = redisImplementation();
  const modes = [
    { name: 'embedded', skipReason: null as string | null },
    {
      name: 'scaled',
      skipReason: process.env.TEST_DATABASE_URL ? (redis.skipReason ?? null) : 'TEST_DATABASE_URL is not set',
    },
  ];
  for (const mode of modes) {
    if (full && mode.skipReason && process.env.CI === 'true')
      throw new Error(`CI needs this suite: ${mode.skipReason}`);
    describe.skipIf(!full || mode.skipReason !== null)(
      `full form, ${mode.name} mode: every route, level 3 risk 2`,
      () => {
        scanMode(mode.name as 'embedded' | 'scaled');
      },
    );
  }
});

function scanMode(mode: 'embedded' | 'scaled') {
  let server: RunningGuardian;
  let dir: string;
  let database: { url: string; drop(): Promise<void> } | null = null;
  const prefix = uniqueRedisPrefix('sqlmap');
  const redisUrl = process.env.TEST_REDIS_URL ?? '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `guardian-sqlmap-${mode}-`));
    if (mode === 'scaled') database = await throwawayDatabase(process.env.TEST_DATABASE_URL!);
    const env = {
      DATA_DIR: join(dir, 'data'),
      PORT: '0',
      LIFECYCLE_INTERVAL_SECONDS: '0',
      // Webhook bodies must reach the database: a loopback receiver is allowed, so no DNS look-up leaves.
      WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
      ...scanLimits,
      ...(database ? { DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix } : {}),
    };
    server = await startGuardian('serve', env, 120_000);
    for (const args of [
      ['org', 'create', 'Newsroom'],
      ['user', 'create', '--email', 'scan@example.com', '--org', 'Newsroom', '--role', 'admin'],
    ]) {
      const created = await runGuardian(args, env, { input: 'injection suite password 1\n' });
      expect(created.code, created.stderr).toBe(0);
    }
    const keyed = await runGuardian(
      ['apikey', 'create', '--org', 'Newsroom', '--name', 'scan', '--role', 'admin'],
      env,
    );
    expect(keyed.code, keyed.stderr).toBe(0);
    context.key = keyed.stdout.trim().split('\n').at(-1)!;
    context.clip = await generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'scan-clip' });
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (mode === 'scaled') await deleteRedisKeys(redisUrl, prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const context = { key: '', clip: '' };

  it('reports zero injectable places over every route, with an API key and with a session', async () => {
    const baseUrl = server.url!;
    const session = await signIn(baseUrl, 'scan@example.com', 'injection suite password 1');
    const seeded = await seed(baseUrl, context.key, context.clip);
    const targetContext: TargetContext = {
      baseUrl,
      credentials: {
        'api-key': { authorization: `Bearer ${context.key}` },
        session: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, origin: baseUrl },
      },
      pathValue: (path, name) =>
        name === 'id'
          ? path.startsWith('/api/v1/media/')
            ? seeded.mediaId
            : path.startsWith('/api/v1/analyses/')
              ? seeded.analysisId
              : undefined
          : seeded[name],
    };
    const document = await servedOpenApi(baseUrl, context.key);
    const operations = parameterisedOperations(document);
    const all: InjectionTarget[] = [
      ...operations.flatMap(({ path, method }) => targetsOf(document, path, method, targetContext)),
      credentialHeaderTarget('api-key', targetContext, {
        operation: 'GET /api/v1/media/{id}',
        method: 'GET',
        path: `/api/v1/media/${seeded.mediaId}`,
      }),
      credentialHeaderTarget('session', targetContext, {
        operation: 'POST /api/v1/verify',
        method: 'POST',
        path: '/api/v1/verify',
        body: '{}',
      }),
    ];
    // A credential the route refuses (an API key on a route for people) stops sqlmap before any query: skip it.
    const admitted: InjectionTarget[] = [];
    const refused: string[] = [];
    // SQLMAP_ONLY (a regular expression on "credential METHOD /path") replays some runs; coverage is not judged then.
    const only = process.env.SQLMAP_ONLY ? new RegExp(process.env.SQLMAP_ONLY) : null;
    for (const target of all.filter((t) => !only || only.test(`${t.credential} ${t.operation}`))) {
      const status = await baselineStatus(target);
      // A public route's 401/403 is its normal answer (a wrong password, an unsigned link): scanned all the same.
      if ((status === 401 || status === 403) && target.credential !== 'public')
        refused.push(`${target.credential} ${target.operation} ${status}`);
      else admitted.push(target);
    }
    const started = performance.now();
    // One line a run, so a long scan shows its progress and a failure names its run.
    const results = await runAll(
      admitted,
      (target) => settingsFor(target),
      3,
      (result, done) =>
        console.log(
          `[injection] ${mode} ${done}/${admitted.length} ${result.target.credential} ${result.target.operation} ${result.target.points.join(', ')}: ${result.injectable.length} injectable, ${result.requests} requests, ${Math.round(result.durationMs / 1000)} s${result.fault ? `, FAULT ${result.fault}` : ''}`,
        ),
    );
    const durationMs = Math.round(performance.now() - started);

    const injectable = results.filter((r) => r.injectable.length > 0);
    const faults = results.filter((r) => r.fault !== null);
    const limited = results.filter((r) => r.rateLimited > 0);
    const places = results.reduce((sum, r) => sum + r.target.points.length, 0);
    const requests = results.reduce((sum, r) => sum + r.requests, 0);
    const throttled = results.reduce((sum, r) => sum + r.throttled, 0);
    const scanned = new Set(results.map((r) => r.target.operation));
    const unscanned = operations
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`)
      .filter((operation) => !scanned.has(operation));
    reportFigure({
      suite,
      measure: `${mode}: operations × credentials scanned, places tested`,
      value: `${scanned.size} of ${operations.length} operations, ${results.length} runs, ${places} places, ${requests} requests`,
      target: 'every operation that takes input',
      met: unscanned.length === 0,
    });
    reportFigure({
      suite,
      measure: `${mode}: injectable places (level 3, risk 2)`,
      value: `${injectable.reduce((sum, r) => sum + r.injectable.length, 0)}`,
      target: '0',
      met: injectable.length === 0,
    });
    reportFigure({
      suite,
      measure: `${mode}: scan duration (3 sqlmap processes)`,
      value: `${Math.round(durationMs / 1000)} s; ${throttled} answers from the per-account sign-in throttle`,
      target: 'bounded (each run ≤ 10 min)',
      met: faults.length === 0,
    });
    const suspected = results.flatMap((r) =>
      r.suspected.map((place) => `${r.target.credential} ${r.target.operation} ${place}`),
    );
    reportFigure({
      suite,
      measure: `${mode}: heuristic hits sqlmap then rejected as false positives`,
      value: `${suspected.length}${suspected.length > 0 ? ` (${suspected.join('; ')})` : ''}`,
      target: 'informational',
      met: true,
    });
    console.log(`[injection] ${mode}: refused credential (not scanned): ${refused.join('; ')}`);
    for (const r of injectable)
      console.log(`[injection] ${r.target.credential} ${r.target.operation}:\n${r.evidence}`);
    expect(summary(injectable)).toEqual([]);
    expect(summary(faults)).toEqual([]);
    expect(summary(limited), 'no request of the scan may meet the HTTP rate limit').toEqual([]);
    if (!only)
      expect(unscanned, 'every operation that takes input is scanned with a credential it admits').toEqual(
        [],
      );
  }, 3_600_000);
}

function settingsFor(target: InjectionTarget): SqlmapSettings {
  return {
    level: 3,
    risk: 2,
    processTimeoutMs: 600_000,
    // Each login attempt names another account: the per-account lock must not answer in the route's place.
    ...(target.operation === 'POST /api/v1/auth/login' ? { randomize: 'email' } : {}),
  };
}

/** The status of the request sqlmap starts from (markers removed). */
async function baselineStatus(target: InjectionTarget): Promise<number> {
  const clean = (text: string) => text.split(marker).join('');
  const response = await fetch(clean(target.url), {
    method: target.method,
    headers: Object.fromEntries(
      [...target.headers, ...(target.body !== undefined ? [['content-type', 'application/json']] : [])].map(
        ([name, value]) => [name!, clean(value!)],
      ),
    ),
    ...(target.body !== undefined ? { body: clean(target.body) } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Signs in as the web app does: POST the password, keep the cookie, send the CSRF token it returns. */
async function signIn(baseUrl: string, email: string, password: string) {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email, password }),
  });
  expect(response.status).toBe(200);
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.includes('session'));
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  expect(cookie).toBeTruthy();
  return { cookie: cookie!, csrfToken };
}

/** One analysed upload, so reads by id, artifact and detector find a row (a vulnerable query answers 200). */
async function seed(baseUrl: string, key: string, clip: string): Promise<Record<string, string>> {
  const upload = await uploadMultipart(baseUrl, key, clip);
  expect(upload.status).toBe(201);
  const { id: mediaId, analysisId } = (await upload.json()) as { id: string; analysisId: string };
  await waitForAnalysis(baseUrl, key, analysisId, 180_000);
  const listed = await fetch(`${baseUrl}/api/v1/analyses/${analysisId}/artifacts`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const { artifacts } = (await listed.json()) as { artifacts?: { detector: string; name: string }[] };
  const artifact = artifacts?.[0];
  return {
    analysisId,
    mediaId,
    ...(artifact ? { detector: artifact.detector, name: artifact.name } : {}),
  };
}

async function throwawayDatabase(adminUrl: string) {
  const name = `guardian_sqlmap_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
