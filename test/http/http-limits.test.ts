import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  defaultHttpLimits,
  jsonDeeperThan,
  maxJsonDepth,
  type HttpLimits,
} from '../../src/http/http-limits.js';
import { createWebSocketLimiter } from '../../src/http/websocket-limits.js';
import type { Principal } from '../../src/http/access-control.js';
import { dripAttack, parseRaw, pushBody, send } from '../resilience/hostile-tools.js';
import { CallLog } from '../services/strict-fake.js';
import { authorized, buildFakeApp, principal } from './fake-app.js';

const limits: HttpLimits = {
  ...defaultHttpLimits,
  headersTimeoutMs: 300,
  bodyTimeoutMs: 300,
  requestTimeoutMs: 800,
  webSocketsPerPrincipal: 2,
  webSocketPingIntervalMs: 200,
};
// Node checks the header and request deadlines once a second.
const checkSlackMs = 1_500;

let log = new CallLog();
let app: FastifyInstance | undefined;
let port = 0;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await app?.close();
  app = undefined;
  log = new CallLog();
});

async function start(): Promise<string> {
  app = await buildFakeApp(log, {
    httpLimits: limits,
    events: { subscribe: async () => async () => undefined },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(url).port);
  return url;
}

const contentLinks = `/api/v1/media/${randomUUID()}/content-links`;

describe('request deadlines', () => {
  it('answers slow headers with 408 problem+json request-timeout and closes the socket', async () => {
    await start();
    const outcome = await dripAttack({
      port,
      head: 'GET /livez HTTP/1.1\r\nHost: guardian\r\nX-Slow: ',
      drip: 'abc',
      everyMs: 200,
      giveUpMs: 10_000,
    });
    expect(outcome.closedAfterMs).not.toBeNull();
    expect(outcome.closedAfterMs!).toBeLessThan(limits.headersTimeoutMs + checkSlackMs);
    const answer = parseRaw(outcome.response);
    expect(answer.status).toBe(408);
    expect(answer.contentType).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status: 408, code: 'request-timeout' });
  });

  it('answers a parsed body that trickles with 408 problem+json after the body timeout, and closes', async () => {
    await start();
    const outcome = await dripAttack({
      port,
      head:
        'POST /api/v1/verify HTTP/1.1\r\nHost: guardian\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"bundle":',
      drip: ' ',
      everyMs: 100,
      giveUpMs: 10_000,
    });
    expect(outcome.closedAfterMs).not.toBeNull();
    expect(outcome.closedAfterMs!).toBeGreaterThanOrEqual(limits.bodyTimeoutMs - 50);
    expect(outcome.closedAfterMs!).toBeLessThan(limits.bodyTimeoutMs + checkSlackMs);
    const answer = parseRaw(outcome.response);
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ code: 'request-timeout' });
  });

  it('leaves multipart uploads to the request timeout, which also answers 408', async () => {
    await start();
    const outcome = await dripAttack({
      port,
      head:
        `POST /api/v1/media HTTP/1.1\r\nHost: guardian\r\nAuthorization: ${authorized.authorization}\r\n` +
        'Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x\r\n',
      drip: ' ',
      everyMs: 100,
      giveUpMs: 10_000,
    });
    expect(outcome.closedAfterMs!).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
    expect(outcome.closedAfterMs!).toBeLessThan(limits.requestTimeoutMs + checkSlackMs);
    expect(parseRaw(outcome.response)).toMatchObject({ status: 408, body: { code: 'request-timeout' } });
  });

  it('stops reading a body it answered early: a trickling client is cut off, an honest sender gets the answer', async () => {
    const url = await start();
    const outcome = await dripAttack({
      port,
      head: `POST ${contentLinks} HTTP/1.1\r\nHost: guardian\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      drip: ' ',
      everyMs: 100,
      giveUpMs: 10_000,
    });
    expect(parseRaw(outcome.response)).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    // One answer only: the request timeout that closes it (before the 2 s of reading on) adds no second one.
    expect(outcome.response.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(outcome.closedAfterMs!).toBeLessThan(2_000 + checkSlackMs);
    const honest = await send(url + contentLinks, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(900 * 1024) }),
      localAddress: '127.0.0.1',
      timeoutMs: 10_000,
    });
    expect(honest.status).toBe(401);
  });

  it('survives a client that disconnects after its oversized body was refused (no late error escapes)', async () => {
    const url = await start();
    const outcome = await pushBody({
      port,
      head:
        `POST ${contentLinks} HTTP/1.1\r\nHost: guardian\r\nAuthorization: ${authorized.authorization}\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(4 * 2 ** 20).toString(16)}\r\n`,
      bodyBytes: 4 * 2 ** 20,
    });
    expect(parseRaw(outcome.response)).toMatchObject({ status: 413, body: { code: 'payload-too-large' } });
    // Past the body timeout: the deadline of the abandoned body must not fire into an unheard stream.
    await new Promise((resolve) => setTimeout(resolve, limits.bodyTimeoutMs + 300));
    expect((await fetch(`${url}/livez`)).status).toBe(200);
  });
});

describe('WebSocket limits', () => {
  const open = (url: string, options: WebSocket.ClientOptions = {}) =>
    new Promise<{ socket: WebSocket | null; status: number; body: string }>((resolve) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/events`, {
        headers: authorized,
        ...options,
      });
      sockets.push(socket);
      socket.once('message', () => resolve({ socket, status: 101, body: '' }));
      socket.once('unexpected-response', (request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          request.destroy();
          resolve({ socket: null, status: response.statusCode ?? 0, body });
        });
      });
      socket.once('error', () => resolve({ socket: null, status: 0, body: '' }));
    });

  it('holds at most WEBSOCKET_MAX_PER_PRINCIPAL sockets per key, refuses one more with 429, and frees closed slots', async () => {
    const url = await start();
    const first = await open(url);
    const second = await open(url);
    expect([first.status, second.status]).toEqual([101, 101]);
    const third = await open(url);
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({ code: 'too-many-websockets' });
    await new Promise((resolve) => {
      first.socket!.once('close', resolve);
      first.socket!.close();
    });
    expect((await open(url)).status).toBe(101);
  });

  it('closes a socket that stops answering pings, and keeps one that answers', async () => {
    const url = await start();
    const silent = await open(url, { autoPong: false });
    const answering = await open(url);
    const closed = new Promise<number>((resolve) => silent.socket!.once('close', resolve));
    expect(await closed).toBe(1006);
    expect(answering.socket!.readyState).toBe(WebSocket.OPEN);
  });

  it('closes the socket of a handshake refused before the WebSocket plugin saw it (a rate limit)', async () => {
    await start();
    const forged = { authorization: `Bearer sag_${'x'.repeat(43)}` };
    // The refused-credentials limit (60 a minute per address) answers the next handshake 429 in an early hook.
    for (let i = 0; i < 60; i += 1) {
      expect((await app!.inject({ method: 'GET', url: '/api/v1/media', headers: forged })).statusCode).toBe(
        401,
      );
    }
    const refused = await dripAttack({
      port,
      head:
        'GET /api/v1/events HTTP/1.1\r\nHost: guardian\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16).toString('base64')}\r\n` +
        `Authorization: ${forged.authorization}\r\n\r\n`,
      drip: '',
      everyMs: 60_000,
      giveUpMs: 3_000,
    });
    expect(parseRaw(refused.response)).toMatchObject({ status: 429, body: { code: 'rate-limited' } });
    expect(refused.closedAfterMs, 'the server closed the refused handshake').not.toBeNull();
  });
});

describe('JSON depth', () => {
  it('refuses JSON nested deeper than the limit with 400 json-too-deep, before parsing it', async () => {
    await start();
    const deep = `{"bundle":${'['.repeat(maxJsonDepth)}${']'.repeat(maxJsonDepth)}}`;
    const response = await app!.inject({
      method: 'POST',
      url: '/api/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: deep,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'json-too-deep' });
    // Below the limit the default parser's checks still apply.
    const poisoned = await app!.inject({
      method: 'POST',
      url: '/api/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: '{"bundle":{"__proto__":{"x":1}}}',
    });
    expect(poisoned.json()).toMatchObject({ status: 400, code: 'invalid-json' });
  });

  it('counts brackets outside strings only', () => {
    expect(jsonDeeperThan('[[[]]]', 3)).toBe(false);
    expect(jsonDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(jsonDeeperThan('{"a":"[[[[[[", "b":{"c":[1]}}', 3)).toBe(false);
    expect(jsonDeeperThan(String.raw`["\"", [[["x"]]]]`, 3)).toBe(true);
    expect(jsonDeeperThan(String.raw`["\\", [["x"]]]`, 3)).toBe(false);
  });
});

describe('the WebSocket limiter', () => {
  const someone = (keyId: string): Principal => ({ ...principal, actor: { type: 'api-key', keyId } });

  it('counts per principal and in all, and a release counts once', () => {
    const limiter = createWebSocketLimiter({ perPrincipal: 2, total: 3 });
    const a = someone('a');
    const releaseA1 = limiter.acquire(a)!;
    limiter.acquire(a);
    expect(limiter.refusal(a)).toMatchObject({ status: 429, code: 'too-many-websockets' });
    expect(limiter.acquire(a)).toBeNull();
    limiter.acquire(someone('b'));
    expect(limiter.refusal(someone('c'))).toMatchObject({ status: 503, code: 'websocket-capacity' });
    releaseA1();
    releaseA1();
    expect(limiter.openCount()).toBe(2);
    expect(limiter.refusal(someone('c'))).toBeNull();
    expect(limiter.refusal(a)).toBeNull();
  });
});
