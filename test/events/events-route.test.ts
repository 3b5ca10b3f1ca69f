import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Analysis } from '../../src/db/schema.js';
import type { AnalysisProgressEvent } from '../../src/events/event-bus.js';
import { notFound } from '../../src/services/errors.js';
import { CallLog } from '../services/strict-fake.js';
import { analysisRow, authorized, buildFakeApp, expectProblem, principal } from '../http/fake-app.js';

type Listener = (event: AnalysisProgressEvent) => void;

let log = new CallLog();
let app: FastifyInstance | undefined;
let baseUrl = '';
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await app?.close();
  app = undefined;
  const { unexpected } = log;
  log = new CallLog();
  expect(unexpected, 'calls the test did not expect').toEqual([]);
});

/** An app whose event bus hands the test the subscriber, and whose analyses are `rows` (reads may be held). */
async function start(options: {
  rows?: Analysis[];
  readGate?: Promise<void>;
  vanishAfterFirstRead?: boolean;
}) {
  const bus = { listener: null as Listener | null, unsubscribed: 0 };
  let reads = 0;
  app = await buildFakeApp(log, {
    role: 'viewer',
    events: {
      subscribe: async (orgId, listener) => {
        expect(orgId).toBe(principal.orgId);
        bus.listener = listener;
        return async () => {
          bus.unsubscribed += 1;
        };
      },
    },
    analysisService: {
      get: async (orgId, id) => {
        reads += 1;
        if (reads > 1) await options.readGate;
        const found = options.rows?.find((row) => row.id === id && row.org_id === orgId);
        if (!found || (options.vanishAfterFirstRead && reads > 1)) throw notFound('analysis');
        return found;
      },
    },
  });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  return bus;
}

/** A WebSocket to the listening app that records every message it gets and how it closed. */
async function connect(query = '') {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events${query}`, {
    headers: authorized,
  });
  sockets.push(socket);
  const messages: Record<string, unknown>[] = [];
  const closed = { code: 0 };
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  socket.on('message', (data: WebSocket.RawData) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    wake();
  });
  socket.on('close', (code: number) => {
    closed.code = code;
    wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => reject(new RefusedUpgrade(response.statusCode ?? 0, response.headers, body)));
    });
    socket.once('error', reject);
  });
  /** Resolves once `count` messages arrived (or the socket closed). */
  const received = (count: number) =>
    new Promise<Record<string, unknown>[]>((resolve) => {
      const check = () => {
        if (messages.length < count && closed.code === 0) return;
        waiters.delete(check);
        resolve(messages);
      };
      waiters.add(check);
      check();
    });
  return { socket, messages, closed, received };
}

class RefusedUpgrade extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, unknown>,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}`);
  }
}

const event = (analysis: Analysis, fields: Partial<AnalysisProgressEvent>): AnalysisProgressEvent => ({
  type: 'analysis.progress',
  orgId: analysis.org_id,
  analysisId: analysis.id,
  mediaId: analysis.media_id,
  status: 'running',
  stage: 'gop-double-compression',
  progress: 0.5,
  at: new Date().toISOString(),
  ...fields,
});

describe('GET /api/v1/events without an upgrade', () => {
  it('answers 426 problem+json with Upgrade: websocket, not a 404', async () => {
    await start({});
    const response = await app!.inject({ method: 'GET', url: '/api/v1/events', headers: authorized });
    expectProblem(response, 426, 'upgrade-required');
    expect(response.headers.upgrade).toBe('websocket');
    expect(String(response.headers.connection)).toMatch(/upgrade/i);
  });

  it('still authenticates first (401), and still validates the filter (400)', async () => {
    await start({});
    expectProblem(await app!.inject({ method: 'GET', url: '/api/v1/events' }), 401, 'unauthenticated');
    const invalid = await app!.inject({
      method: 'GET',
      url: '/api/v1/events?analysisId=x',
      headers: authorized,
    });
    expectProblem(invalid, 400, 'validation-failed');
  });
});

describe('a subscriber filtered on one analysis gets its current state at once', () => {
  it('sends subscribed, then the state of a running analysis, then only newer events', async () => {
    const running = analysisRow({ status: 'running', stage: 'probe', progress: 0.4 });
    const bus = await start({ rows: [running] });
    const client = await connect(`?analysisId=${running.id}`);
    const [subscribed, state] = await client.received(2);
    expect(subscribed).toEqual({ type: 'subscribed', orgId: principal.orgId, analysisId: running.id });
    expect(state).toEqual({
      type: 'analysis.state',
      orgId: principal.orgId,
      analysisId: running.id,
      mediaId: running.media_id,
      status: 'running',
      stage: 'probe',
      progress: 0.4,
      band: null,
      at: running.updated_at.toISOString(),
    });

    // An event about another analysis, and a late duplicate of what the state already said, are not sent.
    const other = analysisRow();
    bus.listener?.(event(other, { progress: 0.9 }));
    bus.listener?.(event(running, { progress: 0.4, stage: 'probe' }));
    bus.listener?.(event(running, { progress: 0.6 }));
    bus.listener?.(
      event(running, { type: 'analysis.done', status: 'done', progress: 1, band: 'inconclusive' }),
    );
    const messages = await client.received(4);
    expect(messages.slice(2).map((message) => [message.type, message.progress])).toEqual([
      ['analysis.progress', 0.6],
      ['analysis.done', 1],
    ]);
  });

  it('gives a late subscriber of a finished analysis its band, and nothing older afterwards', async () => {
    const done = analysisRow({ status: 'done', stage: 'report', progress: 1, band: 'no_indicators' });
    const bus = await start({ rows: [done] });
    const client = await connect(`?analysisId=${done.id}`);
    const [, state] = await client.received(2);
    expect(state).toMatchObject({
      type: 'analysis.state',
      status: 'done',
      progress: 1,
      band: 'no_indicators',
    });
    bus.listener?.(event(done, { progress: 0.8 }));
    bus.listener?.(
      event(done, { type: 'analysis.done', status: 'done', progress: 1, band: 'no_indicators' }),
    );
    // A fresh filter on the same analysis is the barrier: both connections are served in order.
    const second = await connect(`?analysisId=${done.id}`);
    await second.received(2);
    expect(client.messages.map((message) => message.type)).toEqual(['subscribed', 'analysis.state']);
  });

  it('holds events that arrive while the state is read, then sends only those newer than it', async () => {
    const running = analysisRow({ status: 'running', stage: 'probe', progress: 0.2 });
    let release!: () => void;
    const readGate = new Promise<void>((resolve) => (release = resolve));
    const bus = await start({ rows: [running], readGate });
    const client = await connect(`?analysisId=${running.id}`);
    await client.received(1);
    await expect.poll(() => bus.listener).not.toBeNull();
    bus.listener?.(event(running, { progress: 0.1 }));
    bus.listener?.(event(running, { progress: 0.2 }));
    bus.listener?.(event(running, { progress: 0.3 }));
    expect(client.messages.map((message) => message.type)).toEqual(['subscribed']);
    release();
    bus.listener?.(event(running, { progress: 0.35 }));
    const messages = await client.received(4);
    expect(messages.map((message) => [message.type, message.progress])).toEqual([
      ['subscribed', undefined],
      ['analysis.state', 0.2],
      ['analysis.progress', 0.3],
      ['analysis.progress', 0.35],
    ]);
  });

  it("refuses another organisation's (or an unknown) analysis with 404 before the upgrade: no data", async () => {
    const foreign = analysisRow({ org_id: randomUUID(), status: 'done', band: 'indicators_found' });
    await start({ rows: [foreign] });
    for (const analysisId of [foreign.id, randomUUID()]) {
      const refused = await connect(`?analysisId=${analysisId}`).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(RefusedUpgrade);
      const { status, headers, body } = refused as RefusedUpgrade;
      expect(status).toBe(404);
      expect(headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(body)).toMatchObject({ status: 404, code: 'not-found' });
      expect(body).not.toContain('indicators_found');
    }
    expect(log.callsTo('events.subscribe')).toEqual([]);
  });

  it('sends an error message and closes (4404) when the analysis is gone by the time its state is read', async () => {
    const vanishing = analysisRow({ status: 'running', progress: 0.3 });
    const bus = await start({ rows: [vanishing], vanishAfterFirstRead: true });
    const client = await connect(`?analysisId=${vanishing.id}`);
    await client.received(99);
    expect(client.messages).toEqual([
      { type: 'subscribed', orgId: principal.orgId, analysisId: vanishing.id },
      { type: 'error', code: 'not-found', detail: 'analysis not found' },
    ]);
    expect(client.closed.code).toBe(4404);
    await expect.poll(() => bus.unsubscribed).toBe(1);
  });
});

describe('a subscriber to the whole organisation', () => {
  it('gets subscribed, then events as they come, and no state (nothing is read)', async () => {
    const bus = await start({});
    const client = await connect();
    await client.received(1);
    const running = analysisRow({ status: 'running' });
    bus.listener?.(event(running, { progress: 0.1 }));
    const messages = await client.received(2);
    expect(messages).toEqual([
      { type: 'subscribed', orgId: principal.orgId, analysisId: null },
      expect.objectContaining({ type: 'analysis.progress', analysisId: running.id, progress: 0.1 }),
    ]);
    expect(log.callsTo('analysisService.get')).toEqual([]);
  });
});
