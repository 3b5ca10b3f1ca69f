import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { openLoopbackReceiver, waitUntil, type ReceivedRequest } from './loopback-receiver.js';

let opened: PlatformApp;
let receiver: Awaited<ReturnType<typeof openLoopbackReceiver>>;
let keys: RoleKeys;
let orgId: string;

beforeAll(async () => {
  receiver = await openLoopbackReceiver();
  // The operator admits the loopback receiver; nothing else internal.
  opened = await openPlatformApp({ WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', WEBHOOK_ALLOW_HTTP: 'true' });
  await opened.platform.queue.startWorkers(opened.platform.jobHandlers, { concurrency: 1 });
  ({ keys, orgId } = await createOrganisationWithKeys(opened.platform, 'webhooks'));
});

afterAll(async () => {
  await opened?.close();
  await receiver?.close();
});

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, key = keys.admin) =>
  opened.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

const verify = (secret: string, request: ReceivedRequest) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as { type: string };

describe('webhook endpoints API', () => {
  it('admins only; refuses internal destinations with webhook-destination-refused', async () => {
    const body = { url: receiver.url('/x'), eventTypes: ['analysis.completed'] };
    expect((await call('POST', '/api/v1/webhooks', body, keys.analyst)).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/webhooks', undefined, keys.viewer)).statusCode).toBe(403);
    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:192.168.0.1]/',
      'http://[fd00:ec2::254]/',
      'http://127.0.0.2/',
      'ftp://example.org/',
    ]) {
      const response = await call('POST', '/api/v1/webhooks', { ...body, url });
      expect(response.statusCode, url).toBe(422);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json<{ code: string }>().code, url).toBe('webhook-destination-refused');
    }
    const unknownEvent = await call('POST', '/api/v1/webhooks', { ...body, eventTypes: ['media.deleted'] });
    expect(unknownEvent.statusCode).toBe(400);
  });

  it('create shows the secret once; reads never; test event, rotation, redelivery, log, delete', async () => {
    const created = await call('POST', '/api/v1/webhooks', {
      url: receiver.url('/api'),
      description: 'desk',
      eventTypes: ['analysis.completed', 'analysis.failed'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, secret } = created.json<{ id: string; secret: string }>();
    expect(secret).toMatch(/^whsec_/);
    expect(created.headers['cache-control']).toBe('no-store');

    const listed = await call('GET', '/api/v1/webhooks');
    const one = await call('GET', `/api/v1/webhooks/${id}`);
    for (const read of [listed, one]) {
      expect(read.statusCode).toBe(200);
      expect(read.body).not.toContain(secret);
      expect(read.body).not.toContain('whsec_');
    }
    expect(one.json()).toMatchObject({
      url: receiver.url('/api'),
      enabled: true,
      eventTypes: ['analysis.completed', 'analysis.failed'],
    });

    const test = await call('POST', `/api/v1/webhooks/${id}/test`);
    expect(test.statusCode, test.body).toBe(202);
    await waitUntil(() => receiver.to('/api').length === 1);
    expect(verify(secret, receiver.to('/api')[0]!).type).toBe('webhook.test');

    const rotated = await call('POST', `/api/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const newSecret = rotated.json<{ secret: string; previousSecretSignsUntil: string }>().secret;
    expect(newSecret).not.toBe(secret);
    expect(
      rotated.json<{ previousSecretSignsUntil: string | null }>().previousSecretSignsUntil,
    ).not.toBeNull();

    const testDelivery = test.json<{ id: string; eventId: string }>();
    const redelivered = await call('POST', `/api/v1/webhook-deliveries/${testDelivery.id}/redeliver`);
    expect(redelivered.statusCode, redelivered.body).toBe(202);
    expect(redelivered.json()).toMatchObject({
      eventId: testDelivery.eventId,
      redeliveryOf: testDelivery.id,
    });
    await waitUntil(() => receiver.to('/api').length === 2);
    const again = receiver.to('/api')[1]!;
    expect(again.headers['webhook-id']).toBe(testDelivery.eventId);
    expect(verify(newSecret, again).type).toBe('webhook.test');
    expect(verify(secret, again).type).toBe('webhook.test');

    await waitUntil(async () => {
      const page = (await call('GET', `/api/v1/webhooks/${id}/deliveries`)).json<{
        items: { status: string }[];
      }>();
      return page.items.length === 2 && page.items.every((item) => item.status === 'succeeded');
    });
    const page = await call('GET', `/api/v1/webhooks/${id}/deliveries?limit=1`);
    const { items, nextCursor } = page.json<{
      items: { id: string; attempts: object[] }[];
      nextCursor: string;
    }>();
    expect(items).toHaveLength(1);
    expect(items[0]?.attempts).toMatchObject([{ attempt: 1, responseCode: 204 }]);
    const next = await call('GET', `/api/v1/webhooks/${id}/deliveries?limit=1&before=${nextCursor}`);
    expect(next.json<{ items: { id: string }[] }>().items[0]?.id).toBe(testDelivery.id);

    const disabled = await call('PATCH', `/api/v1/webhooks/${id}`, { enabled: false, description: null });
    expect(disabled.json()).toMatchObject({
      enabled: false,
      description: null,
      disabledReason: 'disabled by an admin',
    });
    const moved = await call('PATCH', `/api/v1/webhooks/${id}`, { url: 'http://192.168.1.1/' });
    expect(moved.json<{ code: string }>().code).toBe('webhook-destination-refused');

    expect((await call('DELETE', `/api/v1/webhooks/${id}`)).statusCode).toBe(204);
    expect((await call('GET', `/api/v1/webhooks/${id}`)).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/webhook-deliveries/${testDelivery.id}`)).statusCode).toBe(404);

    const audit = await call('GET', '/api/v1/audit-events?limit=50');
    const actions = audit.json<{ events: { action: string }[] }>().events.map((item) => item.action);
    for (const action of [
      'webhook.create',
      'webhook.test',
      'webhook.secret.rotate',
      'webhook.redeliver',
      'webhook.update',
      'webhook.delete',
    ])
      expect(actions).toContain(action);
    for (const value of [secret, newSecret]) expect(audit.body).not.toContain(value);
  });

  it('another organisation sees none of it', async () => {
    const created = await call('POST', '/api/v1/webhooks', {
      url: receiver.url('/mine'),
      eventTypes: ['analysis.failed'],
    });
    const { id } = created.json<{ id: string }>();
    const other = await createOrganisationWithKeys(opened.platform, 'other');
    expect((await call('GET', `/api/v1/webhooks/${id}`, undefined, other.keys.admin)).statusCode).toBe(404);
    expect((await call('POST', `/api/v1/webhooks/${id}/test`, undefined, other.keys.admin)).statusCode).toBe(
      404,
    );
    expect((await call('DELETE', `/api/v1/webhooks/${id}`, undefined, other.keys.admin)).statusCode).toBe(
      404,
    );
    const theirs = (await call('GET', '/api/v1/webhooks', undefined, other.keys.admin)).json<{
      items: object[];
    }>();
    expect(theirs.items).toEqual([]);
    expect(orgId).not.toBe(other.orgId);
  });
});
