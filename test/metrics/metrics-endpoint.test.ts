import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformMetrics } from '../../src/app/metrics-setup.js';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { buildPlatformApp } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { MetricsServer } from '../../src/metrics/metrics-server.js';
import { bearer, createOrganisationWithKeys } from '../authorization/platform-app.js';
import { testLogger } from '../helpers/databases.js';
import { generateStill } from '../helpers/media-fixtures.js';
import { waitFor } from '../queue/wait-for.js';
import { exportedNames, parseExposition, referencedNames, sumOf } from './exposition.js';

// A real `guardian serve` in this process: the composition root, the API on a port, /metrics on its own.
describe('/metrics of an embedded serve process', () => {
  let dataDir: string;
  let platform: Platform;
  let app: FastifyInstance;
  let metricsServer: MetricsServer;
  let apiUrl: string;
  let apiKey: string;
  let orgId: string;
  let image: Buffer;

  const scrape = async () => {
    const response = await fetch(metricsServer.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, samples: parseExposition(text).samples };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'guardian-metrics-'));
    // METRICS_HOST is left at its default: the test checks where that binds.
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      METRICS_PORT: '0',
      LIFECYCLE_INTERVAL_SECONDS: '0',
      MAX_UPLOAD_BYTES: String(3 * 1024 * 1024),
    });
    platform = await openPlatform(config, testLogger());
    app = await buildPlatformApp(platform);
    metricsServer = (await startPlatformMetrics(platform, 'serve'))!;
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    ({
      orgId,
      keys: { analyst: apiKey },
    } = await createOrganisationWithKeys(platform, 'Metrics'));
    image = await readFile(await generateStill(dataDir, { format: 'jpeg', size: '96x64' }));
  });

  afterAll(async () => {
    await app?.close();
    await metricsServer?.close();
    await platform?.queue.stopWorkers(1_000);
    await platform?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('binds loopback by default, on its own port, and is not served on the API port', async () => {
    expect(new URL(metricsServer.url).hostname).toBe('127.0.0.1');
    expect(new URL(metricsServer.url).port).not.toBe(new URL(apiUrl).port);
    // GET paths the API does not know belong to the web app's fallback: whatever it answers, not metrics.
    const onApi = await fetch(`${apiUrl}/metrics`);
    expect(onApi.headers.get('content-type') ?? '').not.toMatch(/version=0\.0\.4/);
    expect(await onApi.text()).not.toContain('guardian_http_requests_total');
    const elsewhere = await fetch(new URL('/other', metricsServer.url));
    expect(elsewhere.status).toBe(404);
    await elsewhere.body?.cancel();
  });

  it('refuses a metrics port already in use with a ConfigError naming METRICS_PORT', async () => {
    const port = Number(new URL(metricsServer.url).port);
    const clash = { ...platform, config: { ...platform.config, METRICS_PORT: port } };
    await expect(startPlatformMetrics(clash, 'worker')).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [
        `METRICS_PORT: 127.0.0.1:${port} is already in use (give each process on this host its own port, or \`off\`)`,
      ],
    });
  });

  it('counts requests by route template, exactly, with unmatched URLs under one label', async () => {
    const before = (await scrape()).samples;
    for (let i = 0; i < 3; i += 1) (await fetch(`${apiUrl}/livez`)).body?.cancel();
    // No route takes these (GETs would reach the web app's fallback route).
    for (const path of ['/no/such/thing?x=1', '/another/made-up/path'])
      (await fetch(`${apiUrl}${path}`, { method: 'POST' })).body?.cancel();
    const unauthorised = await fetch(`${apiUrl}/api/v1/media/00000000-0000-4000-8000-000000000000`);
    await unauthorised.body?.cancel();
    // onResponse runs after the reply is sent: give the last hook a moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = (await scrape()).samples;
    const delta = (labels: Record<string, string>) =>
      sumOf(after, 'guardian_http_requests_total', labels) -
      sumOf(before, 'guardian_http_requests_total', labels);
    expect(delta({ route: '/livez', method: 'GET', status_code: '200' })).toBe(3);
    expect(delta({ route: 'unmatched', status_code: '404' })).toBe(2);
    expect(delta({ route: '/api/v1/media/:id', status_code: '401' })).toBe(1);
    const histogramDelta =
      sumOf(after, 'guardian_http_request_duration_seconds_count', { route: '/livez', status_class: '2xx' }) -
      sumOf(before, 'guardian_http_request_duration_seconds_count', { route: '/livez', status_class: '2xx' });
    expect(histogramDelta).toBe(3);
    const routes = new Set(
      after.filter((s) => s.name === 'guardian_http_requests_total').map((s) => s.labels.route),
    );
    expect([...routes].some((route) => route?.includes('no/such'))).toBe(false);
  });

  it('counts multipart and resumable uploads and their bytes, shows the waiting job, then times the analysis and its detectors', async () => {
    const form = new FormData();
    form.append('file', new Blob([image], { type: 'image/jpeg' }), 'still.jpg');
    const multipart = await fetch(`${apiUrl}/api/v1/media`, {
      method: 'POST',
      headers: bearer(apiKey),
      body: form,
    });
    expect(multipart.status, await multipart.clone().text()).toBe(201);
    const first = (await multipart.json()) as { analysisId: string };

    const created = await fetch(`${apiUrl}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        ...bearer(apiKey),
        'tus-resumable': '1.0.0',
        'upload-length': String(image.length),
        'upload-metadata': `filename ${Buffer.from('again.jpg').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    const patched = await fetch(new URL(created.headers.get('location')!, apiUrl), {
      method: 'PATCH',
      headers: {
        ...bearer(apiKey),
        'tus-resumable': '1.0.0',
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
      },
      body: image,
    });
    expect(patched.status).toBe(204);
    const second = patched.headers.get('guardian-analysis-id')!;

    // A scrape reuses a queue reading younger than 1 s (one query for all its gauges): the last test's may be.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const queued = (await scrape()).samples;
    expect(sumOf(queued, 'guardian_uploads_total', { method: 'multipart', outcome: 'stored' })).toBe(1);
    expect(sumOf(queued, 'guardian_uploads_total', { method: 'resumable', outcome: 'stored' })).toBe(1);
    expect(sumOf(queued, 'guardian_upload_bytes_total', { method: 'multipart' })).toBe(image.length);
    expect(sumOf(queued, 'guardian_upload_bytes_total', { method: 'resumable' })).toBe(image.length);
    // Two media, two analysis jobs waiting: no worker runs yet.
    expect(sumOf(queued, 'guardian_queue_jobs', { job_name: 'analysis.run', state: 'waiting' })).toBe(2);
    expect(sumOf(queued, 'guardian_queue_jobs', { job_name: 'analysis.run', state: 'active' })).toBe(0);
    expect(
      sumOf(queued, 'guardian_queue_oldest_waiting_job_age_seconds', { job_name: 'analysis.run' }),
    ).toBeGreaterThanOrEqual(0);

    await platform.queue.startWorkers(platform.jobHandlers, {
      concurrency: 2,
      onJobExhausted: platform.jobExhaustedHandlers,
    });
    let statuses: string[] = [];
    await waitFor(
      'both analyses to finish',
      async () => {
        statuses = await Promise.all(
          [first.analysisId, second].map(
            async (id) => (await platform.repositories.analyses.findById(orgId, id))?.status ?? '',
          ),
        );
        return statuses.every((status) => status === 'done' || status === 'failed');
      },
      30_000,
    );
    expect(statuses).toEqual(['done', 'done']);
    const done = (await scrape()).samples;
    expect(sumOf(done, 'guardian_queue_jobs', { job_name: 'analysis.run', state: 'waiting' })).toBe(0);
    expect(sumOf(done, 'guardian_queue_oldest_waiting_job_age_seconds', { job_name: 'analysis.run' })).toBe(
      0,
    );
    expect(
      sumOf(done, 'guardian_job_duration_seconds_count', { job_name: 'analysis.run', outcome: 'succeeded' }),
    ).toBe(2);
    const detectorRuns = done.filter(
      (sample) => sample.name === 'guardian_detector_duration_seconds_count' && sample.value > 0,
    );
    // Every detector of the pipeline reported once per analysis, whatever its outcome.
    const detectors = new Set(detectorRuns.map((sample) => sample.labels.detector));
    expect(detectors.size).toBeGreaterThanOrEqual(5);
    expect(detectorRuns.reduce((total, sample) => total + sample.value, 0)).toBe(2 * detectors.size);
  });

  it('reports the database connection, disk, process and anchor gauges', async () => {
    const { text, samples } = await scrape();
    expect(sumOf(samples, 'guardian_db_pool_connections', { state: 'total' })).toBe(1);
    expect(sumOf(samples, 'guardian_db_pool_waiting_requests')).toBeGreaterThanOrEqual(0);
    expect(sumOf(samples, 'guardian_data_dir_free_bytes')).toBeGreaterThan(0);
    expect(sumOf(samples, 'guardian_data_dir_size_bytes')).toBeGreaterThanOrEqual(
      sumOf(samples, 'guardian_data_dir_free_bytes'),
    );
    expect(sumOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sumOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(
      sumOf(samples, 'guardian_process_info', { role: 'serve', database: 'pglite', queue: 'embedded' }),
    ).toBe(1);
    expect(sumOf(samples, 'guardian_metrics_collect_errors_total')).toBe(0);
    // No anchorer is configured here: the anchor families exist, with no series yet.
    expect(exportedNames(text)).toContain('guardian_anchors');
  });

  // Runs last: by now requests, uploads, an analysis and its detectors have filled the histograms.
  it('exports every metric name the alert rules and the Grafana dashboard use', async () => {
    const exported = exportedNames((await scrape()).text);
    for (const file of ['deploy/prometheus/alerts.yml', 'deploy/grafana/guardian-dashboard.json']) {
      const referenced = referencedNames(await readFile(new URL(`../../${file}`, import.meta.url), 'utf8'));
      expect(referenced.size, file).toBeGreaterThan(5);
      const missing = [...referenced].filter((name) => !exported.has(name));
      expect(missing, `${file} refers to names /metrics does not export`).toEqual([]);
    }
  });
});
