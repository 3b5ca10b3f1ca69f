import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { analysisEndWebhooks, anchoredWebhooks } from '../../src/app/webhook-setup.js';
import type { Principal } from '../../src/http/access-control.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import { jobDefinitions, type JobDefinitions } from '../../src/queue/job-table.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createWebhookRepository } from '../../src/repositories/webhook.repository.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createWebhookDeliveryService } from '../../src/services/webhook-delivery.service.js';
import { createWebhookService } from '../../src/services/webhook.service.js';
import { webhookSecretObjects } from '../../src/services/webhook-secret-objects.js';
import { kekFromMasterKey } from '../../src/storage/master-key.js';
import { openWebhookSecret } from '../../src/webhooks/webhook-secrets.js';
import { parseDestinationPolicy, resolveWithSystem } from '../../src/webhooks/webhook-destination.js';
import { sendWebhook } from '../../src/webhooks/webhook-sender.js';
import { anchorJobDefinitions, unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';
import { openAnalysisWorld, seedAnalysis, type PipelineScript } from '../queue/fixtures/analysis-world.js';
import { openLoopbackReceiver, waitUntil, type ReceivedRequest } from './loopback-receiver.js';

const retryDelayMs = 300;
const definitions: JobDefinitions = {
  ...jobDefinitions,
  'analysis.run': {
    ...jobDefinitions['analysis.run'],
    backoff: { type: 'fixed', delayMs: 50 },
    timeoutMs: 10_000,
  },
  ...anchorJobDefinitions,
};

const verify = (secret: string, request: ReceivedRequest) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };

describeEachImplementation('webhook delivery', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let dataDir: string;
  let queue: EmbeddedJobQueue;
  let receiver: Awaited<ReturnType<typeof openLoopbackReceiver>>;
  let world: ReturnType<typeof openAnalysisWorld>;
  let script: PipelineScript;
  const logLines: string[] = [];
  const secrets: string[] = [];
  const masterKeyHex = randomBytes(32).toString('hex');
  const keyring = { current: kekFromMasterKey(Buffer.from(masterKeyHex, 'hex')), previous: [] };
  const policy = parseDestinationPolicy({ networks: '127.0.0.1/32', allowHttp: true });
  const log = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  let delivery: ReturnType<typeof createWebhookDeliveryService>;
  let service: ReturnType<typeof createWebhookService>;
  const webhooksOf = (db: TestDatabase) => createWebhookRepository({ db: db.db });

  async function endpointFor(orgId: string, path: string, eventTypes: string[]) {
    const principal: Principal = {
      orgId,
      orgName: 'org',
      role: 'admin',
      actor: { type: 'api-key', keyId: randomUUID() },
    };
    const created = await service.create(
      principal,
      { url: receiver.url(path), description: null, eventTypes },
      { ip: '127.0.0.1', userAgent: 'test' },
    );
    secrets.push(created.secret);
    return { ...created, principal };
  }

  beforeAll(async () => {
    database = await implementation.open();
    dataDir = await mkdtemp(join(tmpdir(), 'guardian-webhooks-'));
    receiver = await openLoopbackReceiver();
    queue = new EmbeddedJobQueue({ db: database.db, log, definitions, pollIntervalMs: 25 });
    const webhooks = webhooksOf(database);
    delivery = createWebhookDeliveryService({
      db: database.db,
      webhooks,
      keyring,
      queue,
      policy,
      resolve: resolveWithSystem,
      send: sendWebhook,
      settings: {
        retryDelaysMs: [0, retryDelayMs, retryDelayMs],
        timeoutMs: 2000,
        disableAfterFailures: 2,
        userAgent: 'test',
      },
      now: () => new Date(),
      log,
    });
    service = createWebhookService({
      db: database.db,
      webhooks,
      delivery,
      keyring,
      policy,
      resolve: resolveWithSystem,
      audit: createAuditLogService({ audit: createAuditRepository({ db: database.db }) }),
      now: () => new Date(),
    });
    world = openAnalysisWorld({
      db: database.db,
      queue,
      dataDir,
      masterKeyHex,
      script: (request, attempts) => script(request, attempts),
      log,
      webhooks: analysisEndWebhooks(delivery, {
        publicUrl: 'https://guardian.example',
        now: () => new Date(),
      }),
    });
    await queue.startWorkers(
      {
        ...unexpectedAnchorJobs,
        'analysis.run': world.service.run,
        'webhook.deliver': (payload) => delivery.deliver(payload),
      },
      { concurrency: 1 },
    );
  });

  afterAll(async () => {
    await queue?.stopWorkers(2000);
    await queue?.close();
    await world?.close();
    await receiver?.close();
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    // No secret reached a log line (they ran at trace level).
    const logged = logLines.join('');
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(logged).not.toContain(secret);
    expect(logged).not.toContain('whsec_');
  });

  it('a finished analysis delivers analysis.completed exactly once, signed per Standard Webhooks', async () => {
    script = async () => ({ band: 'no_indicators', reasons: [] }) as never;
    const { analysisId, orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { endpoint, secret } = await endpointFor(orgId, '/completed', [
      'analysis.completed',
      'analysis.failed',
    ]);
    await queue.enqueue('analysis.run', { analysisId, orgId }, { jobId: analysisId });
    await waitUntil(() => receiver.to('/completed').length === 1);
    // The same job again (a duplicate, a retry after a lost ack) ends nothing new and sends nothing new.
    await queue.enqueue('analysis.run', { analysisId, orgId }, { jobId: `${analysisId}:again` });
    await waitUntil(async () => !(await queue.isPending('analysis.run', `${analysisId}:again`)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.to('/completed')).toHaveLength(1);

    const [request] = receiver.to('/completed');
    const payload = verify(secret, request!);
    expect(payload).toMatchObject({
      type: 'analysis.completed',
      data: {
        analysisId,
        status: 'done',
        band: 'no_indicators',
        links: { report: `https://guardian.example/api/v1/analyses/${analysisId}` },
      },
    });
    expect(request!.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(request!.headers['content-type']).toBe('application/json');
    // A wrong secret or a changed body does not verify.
    expect(() => verify(`whsec_${randomBytes(32).toString('base64')}`, request!)).toThrow();
    expect(() =>
      verify(secret, { ...request!, body: request!.body.replace('no_indicators', 'x') }),
    ).toThrow();

    await waitUntil(async () => {
      const [logged] = await service.listDeliveries(orgId, endpoint.id, { limit: 10 });
      return logged?.delivery.status === 'succeeded';
    });
    const deliveryLog = await service.listDeliveries(orgId, endpoint.id, { limit: 10 });
    expect(deliveryLog).toHaveLength(1);
    expect(deliveryLog[0]?.attempts).toMatchObject([{ attempt: 1, response_code: 204, error: null }]);
  });

  it('a failed analysis delivers analysis.failed with its stable code only', async () => {
    script = async () => {
      throw new Error('decoder exploded at /srv/secret/path');
    };
    const { analysisId, orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { secret } = await endpointFor(orgId, '/failed', ['analysis.failed']);
    await endpointFor(orgId, '/only-completed', ['analysis.completed']);
    await queue.enqueue('analysis.run', { analysisId, orgId }, { jobId: analysisId });
    await waitUntil(() => receiver.to('/failed').length === 1);
    const payload = verify(secret, receiver.to('/failed')[0]!);
    expect(payload).toMatchObject({
      type: 'analysis.failed',
      data: { analysisId, status: 'failed', errorCode: 'analysis-failed' },
    });
    expect(JSON.stringify(payload)).not.toContain('/srv/secret/path');
    expect(receiver.to('/only-completed')).toHaveLength(0);
  });

  it('retries a 500 after the scheduled delay, and the log shows both attempts', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { endpoint, secret, principal } = await endpointFor(orgId, '/flaky', ['analysis.completed']);
    receiver.answerWith((request, _index, response) => {
      const first = request.path === '/flaky' && receiver.to('/flaky').length === 1;
      response.writeHead(first ? 500 : 200).end(first ? 'try later' : 'ok');
    });
    const queued = await service.sendTest(principal, endpoint.id, { ip: null, userAgent: null });
    await waitUntil(() => receiver.to('/flaky').length === 2);
    const [first, second] = receiver.to('/flaky');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(retryDelayMs * 0.9 - 20);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verify(secret, first!).type).toBe('webhook.test');
    expect(verify(secret, second!).type).toBe('webhook.test');
    await waitUntil(
      async () => (await service.getDelivery(orgId, queued.id)).delivery.status === 'succeeded',
    );
    const { delivery: row, attempts } = await service.getDelivery(orgId, queued.id);
    expect(row).toMatchObject({ attempt_count: 2, last_response_code: 200, next_attempt_at: null });
    expect(attempts).toMatchObject([
      { attempt: 1, response_code: 500, response_excerpt: 'try later', error: 'HTTP 500' },
      { attempt: 2, response_code: 200, error: null },
    ]);
  });

  it('marks a delivery failed when its last attempt fails, and disables the endpoint after repeated failures', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { endpoint, principal } = await endpointFor(orgId, '/down', ['analysis.completed']);
    receiver.answerWith((_request, _index, response) => void response.writeHead(503).end());
    const client = { ip: null, userAgent: null };
    const first = await service.sendTest(principal, endpoint.id, client);
    await waitUntil(async () => (await service.getDelivery(orgId, first.id)).delivery.status === 'failed');
    const { delivery: row, attempts } = await service.getDelivery(orgId, first.id);
    expect(row).toMatchObject({ attempt_count: 3, next_attempt_at: null, last_response_code: 503 });
    expect(attempts.map((attempt) => attempt.response_code)).toEqual([503, 503, 503]);
    expect(receiver.to('/down')).toHaveLength(3);
    // The endpoint's count follows the delivery's final state.
    await waitUntil(async () => (await service.get(orgId, endpoint.id)).consecutive_failures === 1);
    expect(await service.get(orgId, endpoint.id)).toMatchObject({ enabled: true });

    const second = await service.sendTest(principal, endpoint.id, client);
    await waitUntil(async () => !(await service.get(orgId, endpoint.id)).enabled);
    expect((await service.getDelivery(orgId, second.id)).delivery.status).toBe('failed');
    expect(await service.get(orgId, endpoint.id)).toMatchObject({
      enabled: false,
      disabled_reason: 'disabled after 2 consecutive failed deliveries',
    });
    // Disabled: nothing more is sent; the delivery fails at once, without retries.
    const third = await service.sendTest(principal, endpoint.id, client);
    await waitUntil(async () => (await service.getDelivery(orgId, third.id)).delivery.status !== 'pending');
    expect((await service.getDelivery(orgId, third.id)).attempts).toMatchObject([
      { error: 'endpoint disabled' },
    ]);
    expect(receiver.to('/down')).toHaveLength(6);
    receiver.answerWith((_request, _index, response) => void response.writeHead(204).end());
  });

  it('rotation: both secrets sign during the grace period; the secret is stored sealed', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const {
      endpoint,
      secret: oldSecret,
      principal,
    } = await endpointFor(orgId, '/rotated', ['analysis.completed']);
    const client = { ip: null, userAgent: null };
    const { secret: newSecret } = await service.rotateSecret(principal, endpoint.id, client);
    secrets.push(newSecret);
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await service.sendTest(principal, endpoint.id, client);
    await waitUntil(() => receiver.to('/rotated').length === 1);
    const [request] = receiver.to('/rotated');
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(newSecret, request!).type).toBe('webhook.test');
    expect(verify(oldSecret, request!).type).toBe('webhook.test');

    const row = await database.db
      .selectFrom('webhook_endpoints')
      .select(['secret_sealed', 'previous_secret_sealed'])
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow();
    for (const sealed of [row.secret_sealed, row.previous_secret_sealed!]) {
      const bytes = Buffer.from(sealed);
      for (const secret of [oldSecret, newSecret]) {
        expect(bytes.includes(Buffer.from(secret))).toBe(false);
        expect(bytes.includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
      }
    }
  });

  it('refuses at delivery time a destination the policy no longer admits (checked again per attempt)', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { endpoint } = await endpointFor(orgId, '/strict', ['analysis.completed']);
    const webhooks = webhooksOf(database);
    const strict = createWebhookDeliveryService({
      db: database.db,
      webhooks,
      keyring,
      queue: { enqueue: async () => {}, isPending: async () => true },
      policy: parseDestinationPolicy({ networks: undefined, allowHttp: true }),
      resolve: resolveWithSystem,
      send: sendWebhook,
      settings: { retryDelaysMs: [0], timeoutMs: 2000, disableAfterFailures: 0, userAgent: 'test' },
      now: () => new Date(),
      log,
    });
    const [created] = await webhooks.createDeliveries([
      {
        orgId,
        endpointId: endpoint.id,
        eventId: 'msg_x',
        eventType: 'webhook.test',
        payload: '{}',
        at: new Date(),
      },
    ]);
    await strict.deliver({ deliveryId: created!.id });
    const { delivery: row, attempts } = await service.getDelivery(orgId, created!.id);
    expect(row.status).toBe('failed');
    expect(attempts[0]?.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
    expect(receiver.to('/strict')).toHaveLength(0);
  });

  it('the sweep enqueues a due delivery whose job was lost', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const { endpoint } = await endpointFor(orgId, '/swept', ['analysis.completed']);
    const webhooks = webhooksOf(database);
    // Written without a job, as after a crash between commit and enqueue.
    await webhooks.createDeliveries([
      {
        orgId,
        endpointId: endpoint.id,
        eventId: 'msg_swept',
        eventType: 'webhook.test',
        payload: '{"a":1}',
        at: new Date(),
      },
    ]);
    expect(await delivery.sweep()).toBeGreaterThanOrEqual(1);
    await waitUntil(() => receiver.to('/swept').length === 1);
    expect(receiver.to('/swept')[0]?.headers['webhook-id']).toBe('msg_swept');
  });

  it('evidence.anchored goes to every organisation subscribed, only when the anchor moved', async () => {
    const first = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const second = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const a = await endpointFor(first.orgId, '/anchored-a', ['evidence.anchored']);
    const b = await endpointFor(second.orgId, '/anchored-b', ['evidence.anchored', 'analysis.failed']);
    await endpointFor(second.orgId, '/not-anchors', ['analysis.completed']);
    const hook = anchoredWebhooks(delivery, { publicUrl: 'https://guardian.example', now: () => new Date() });
    const record = {
      id: 7,
      kind: 'rfc3161',
      tree_size: 12,
      tree_head_sha256: 'ab'.repeat(32),
      anchored_at: new Date(),
    };
    // The anchor had moved on already (another worker): no event.
    expect(await hook.anchored(async () => null)).toBeNull();
    expect(await hook.anchored(async () => record as never)).toBe(record);
    await waitUntil(() => receiver.to('/anchored-a').length === 1 && receiver.to('/anchored-b').length === 1);
    const payload = verify(a.secret, receiver.to('/anchored-a')[0]!);
    expect(payload).toMatchObject({
      type: 'evidence.anchored',
      data: { anchorId: 7, kind: 'rfc3161', treeSize: 12 },
    });
    expect(verify(b.secret, receiver.to('/anchored-b')[0]!).type).toBe('evidence.anchored');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.to('/anchored-a')).toHaveLength(1);
    expect(receiver.to('/not-anchors')).toHaveLength(0);
  });

  it('master key rotation re-wraps webhook secrets (current and previous) so the new key alone opens them', async () => {
    const { orgId } = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
    const {
      endpoint,
      secret: before,
      principal,
    } = await endpointFor(orgId, '/rewrap', ['analysis.completed']);
    const { secret: after } = await service.rotateSecret(principal, endpoint.id, {
      ip: null,
      userAgent: null,
    });
    secrets.push(after);
    const next = kekFromMasterKey(randomBytes(32), 2);
    const objects = webhookSecretObjects({
      db: database.db,
      keyring: { current: next, previous: [keyring.current] },
    });
    const keys: string[] = [];
    for await (const key of objects.keys()) keys.push(key);
    expect(keys).toEqual(expect.arrayContaining([`${endpoint.id}:current`, `${endpoint.id}:previous`]));
    for (const key of keys.filter((one) => one.startsWith(endpoint.id))) {
      expect(await objects.rewrap(key)).toBe(true);
      expect((await objects.kekOf(key))?.id).toBe(next.id);
    }
    const row = await database.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', endpoint.id)
      .executeTakeFirstOrThrow();
    const onlyNext = { current: next, previous: [] };
    expect(await openWebhookSecret(row.secret_sealed, endpoint.id, 'current', onlyNext)).toBe(after);
    expect(await openWebhookSecret(row.previous_secret_sealed!, endpoint.id, 'previous', onlyNext)).toBe(
      before,
    );
  });
});
