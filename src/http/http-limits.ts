import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../services/errors.js';
import { problemBody } from './problem-details.js';

/** How long a client may take to send a request, and how many WebSockets it may hold (docs/configuration.md). */
export interface HttpLimits {
  /** Request line and headers must arrive within this (slow headers: 408, then closed). */
  headersTimeoutMs: number;
  /** A body the app parses (JSON and the like) must arrive within this after its headers. */
  bodyTimeoutMs: number;
  /** Any request, streamed uploads included, must arrive whole within this. */
  requestTimeoutMs: number;
  /** Open `/api/v1/events` WebSockets per API key or person. */
  webSocketsPerPrincipal: number;
  /** Open `/api/v1/events` WebSockets in this process. */
  webSocketsTotal: number;
  /** A WebSocket that does not answer a ping within this is closed (half-open peers free their slot). */
  webSocketPingIntervalMs: number;
}

export const defaultHttpLimits: HttpLimits = {
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  requestTimeoutMs: 3_600_000,
  webSocketsPerPrincipal: 20,
  webSocketsTotal: 2_000,
  webSocketPingIntervalMs: 30_000,
};

// Node checks header and request deadlines on this period (its default, 30 s, would let them run that much late).
const deadlineCheckIntervalMs = 1_000;

// Bodies the upload handlers stream to storage themselves: bounded by the request timeout and their size limit.
const streamedBodyTypes = /^(multipart\/form-data|application\/offset\+octet-stream)\b/i;

/** Fastify server options: Node's own request deadline (Fastify turns it off by default) and its checking period. */
export function serverTimeoutOptions(limits: HttpLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    http: { connectionsCheckingInterval: deadlineCheckIntervalMs },
    clientErrorHandler: answerClientError,
  };
}

/** What Fastify's options cannot say: the headers deadline and the same checking period under TLS. */
export function applyServerLimits(server: Server, limits: HttpLimits): void {
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
}

// After an answer that went out before its request's body was read, the rest may still drain this long (so an
// honest client that was still sending gets the answer, not a reset); then the connection is closed.
const lingerMs = 2_000;

/** JSON nested deeper than this is refused before it is parsed (parsing a million levels blocks for a second). */
export const maxJsonDepth = 256;

/**
 * Bounds the time a parsed body may take to arrive (slow bodies: 408 problem+json) and how deep JSON may nest;
 * stops reading a body that was answered before it arrived, so a refused client cannot keep trickling; and
 * closes a WebSocket handshake's socket once it is answered without an upgrade.
 */
export function registerRequestLimits(app: FastifyInstance, limits: HttpLimits): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    // No body to wait for (most GETs): no deadline timer either.
    if (!announcesBody(request.raw)) return payload;
    if (streamedBodyTypes.test(request.headers['content-type'] ?? '')) return payload;
    return withDeadline(payload, limits.bodyTimeoutMs);
  });
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDeeperThan(body as string, maxJsonDepth)) done(jsonTooDeep(), undefined);
    else parseJson(request, body as string, done);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // A body that missed its deadline is not waited for; a refused handshake is not kept.
    if (reply.statusCode === 408 || isUpgrade(request.raw)) reply.header('connection', 'close');
    return payload;
  });
  // Node hands handshake sockets to @fastify/websocket outside its timeouts; that plugin closes a refused one
  // only if its own onRequest hook ran, and a rate limit that refuses earlier would leave it open for good.
  app.addHook('onResponse', async (request) => {
    const { raw } = request;
    if (isUpgrade(raw)) raw.socket?.destroy();
    // `complete` is false only on a real socket still receiving the body (injected requests have none).
    else if (raw.complete === false && raw.socket) closeUnlessCompleteSoon(raw, raw.socket);
  });
}

/** A request with a body says so: a length above zero or a transfer encoding (RFC 9112, 6.1–6.3). */
function announcesBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

// Marks a socket whose request was answered before its body arrived: a later timeout must not answer it twice.
const answeredEarly = Symbol('answered before the body arrived');
type MarkedSocket = Socket & { [answeredEarly]?: true };

function closeUnlessCompleteSoon(raw: IncomingMessage, socket: MarkedSocket): void {
  socket[answeredEarly] = true;
  // Discard the rest (a parser that stopped at the body limit no longer reads it): the sender can finish and read
  // the answer instead of being reset with it unread.
  raw.unpipe();
  raw.resume();
  const timer = setTimeout(() => {
    if (!raw.complete) socket.destroy();
  }, lingerMs);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
}

/** Whether arrays and objects in JSON text nest deeper than `limit` (a scan of the text, strings skipped). */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

function jsonTooDeep(): AppError {
  return new AppError(
    400,
    'json-too-deep',
    'JSON nested too deeply',
    `arrays and objects may nest at most ${maxJsonDepth} levels`,
  );
}

const isUpgrade = (raw: IncomingMessage) => raw.headers.upgrade !== undefined;

/** The payload as a stream that fails with 408 unless it ends within `ms`. */
function withDeadline(payload: Readable, ms: number): Readable {
  const timed = new PassThrough();
  const timer = setTimeout(() => {
    payload.unpipe(timed);
    payload.pause();
    timed.destroy(requestTimeout('the request body did not arrive in time'));
  }, ms);
  timer.unref();
  const stop = () => clearTimeout(timer);
  payload.once('end', stop);
  payload.once('close', stop);
  payload.once('error', (error) => {
    stop();
    timed.destroy(error);
  });
  timed.once('close', stop);
  // Once Fastify stops reading (413), a late error has no reader left; unheard, it would crash the process.
  timed.on('error', () => undefined);
  payload.pipe(timed);
  return timed;
}

function requestTimeout(detail: string): AppError {
  return new AppError(408, 'request-timeout', 'Request timeout', detail);
}

const clientErrors: Record<string, AppError> = {
  ERR_HTTP_REQUEST_TIMEOUT: requestTimeout('the request did not arrive in time'),
  HPE_HEADER_OVERFLOW: new AppError(
    431,
    'headers-too-large',
    'Request header fields too large',
    'the request headers exceed the limit',
  ),
};

/** Errors Node raises before there is a request (timeouts, malformed HTTP): problem+json, then the socket closes. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    clientErrors[error.code ?? ''] ??
    new AppError(400, 'malformed-request', 'Bad request', 'malformed HTTP request');
  const body = JSON.stringify(problemBody(problem));
  // As Node does: no answer once a response has started on this socket, it would corrupt what the peer reads.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent && !(socket as MarkedSocket)[answeredEarly]) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
