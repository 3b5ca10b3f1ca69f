import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FloodSpec } from './flood-driver.js';

/** The server's resident memory in MiB, from /proc (the process the test started). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  if (!line?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) / 1024;
}

/** Peer addresses of the established IPv4 connections to a local port (from /proc/net/tcp). */
export function connectedPeers(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state]) => local?.endsWith(`:${hexPort}`) && state === '01')
    .map(([, , remote]) => {
      const hex = remote?.split(':')[0] ?? '';
      // Little-endian bytes: 0100007F is 127.0.0.1.
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

/** Samples RSS every `everyMs`; `peak()` since the last `reset()`. */
export function sampleRss(pid: number, everyMs = 100) {
  let peak = rssMiB(pid);
  let overall = peak;
  const timer = setInterval(() => {
    const now = rssMiB(pid);
    peak = Math.max(peak, now);
    overall = Math.max(overall, now);
  }, everyMs);
  return {
    peak: () => Math.max(peak, rssMiB(pid)),
    overallPeak: () => Math.max(overall, rssMiB(pid)),
    reset: () => (peak = rssMiB(pid)),
    stop: () => clearInterval(timer),
  };
}

export interface Answer {
  status: number;
  ms: number;
  contentType: string;
  retryAfter: string | undefined;
  text: string;
}

/**
 * One request from `localAddress` on a connection of its own, closed after the answer (no keep-alive left behind);
 * status 0 when it failed or took over `timeoutMs`.
 */
export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress: string;
    timeoutMs: number;
  },
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (status: number, response?: IncomingMessage, text = '') =>
      resolve({
        status,
        ms: performance.now() - started,
        contentType: response?.headers['content-type'] ?? '',
        retryAfter: response?.headers['retry-after'],
        text,
      });
    const outgoing = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        localAddress: options.localAddress,
        timeout: options.timeoutMs,
        agent: false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.once('end', () => done(response.statusCode ?? 0, response, text));
        response.once('error', () => done(0));
      },
    );
    outgoing.once('timeout', () => outgoing.destroy());
    outgoing.once('error', () => done(0));
    outgoing.end(options.body);
  });
}

export function timedGet(
  url: string,
  headers: Record<string, string>,
  localAddress: string,
  timeoutMs: number,
): Promise<Answer> {
  return send(url, { headers, localAddress, timeoutMs });
}

/** A well-behaved client: `/livez` and one authenticated GET every `everyMs`, from its own address. */
export function startProbe(options: { baseUrl: string; key: string; localAddress: string; everyMs: number }) {
  let answers: Answer[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = new Promise((resolve) => setTimeout(resolve, options.everyMs));
      const pair = await Promise.all([
        timedGet(`${options.baseUrl}/livez`, {}, options.localAddress, 10_000),
        timedGet(
          `${options.baseUrl}/api/v1/media?limit=1`,
          { authorization: `Bearer ${options.key}` },
          options.localAddress,
          10_000,
        ),
      ]);
      answers.push(...pair);
      await tick;
    }
  })();
  return {
    /** The answers since the last `take`, once there are at least `atLeast` (a short attack still gets a few). */
    async take(atLeast = 6): Promise<Answer[]> {
      for (let waited = 0; answers.length < atLeast && waited < 5_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const taken = answers;
      answers = [];
      return taken;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** What a raw socket saw: the bytes the server sent and when the server closed it. */
export interface RawOutcome {
  response: string;
  /** Milliseconds from connecting until the server closed (or `null` when the attacker gave up first). */
  closedAfterMs: number | null;
}

/**
 * Connects from 127.0.0.1, writes `head`, then one byte of `drip` every `everyMs` until the server closes the
 * socket or `giveUpMs` passes (then the attacker closes it and `closedAfterMs` is null).
 */
export function dripAttack(options: {
  port: number;
  head: string;
  drip: string;
  everyMs: number;
  giveUpMs: number;
}): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect({ port: options.port, host: '127.0.0.1' });
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => finish(null), options.giveUpMs);
    const finish = (closedAfterMs: number | null) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ response, closedAfterMs });
    };
    socket.on('connect', () => {
      socket.write(options.head);
      timer = setInterval(() => {
        if (socket.writable) socket.write(options.drip[sent++ % options.drip.length] ?? ' ');
      }, options.everyMs);
    });
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(Math.round(performance.now() - started)));
  });
}

/** Sends `head`, then `bodyBytes` of filler as fast as the server takes it, until it answers or closes (30 s at most). */
export function pushBody(options: { port: number; head: string; bodyBytes: number }): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ port: options.port, host: '127.0.0.1' });
    let response = '';
    let left = options.bodyBytes;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, 30_000);
    const pump = () => {
      while (left > 0 && response === '' && !socket.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(options.head);
      pump();
    });
    socket.on('data', (data: Buffer) => (response += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ response, closedAfterMs: gaveUp ? null : Math.round(performance.now() - started) });
    });
  });
}

/** The status and JSON body of a raw HTTP/1.1 response, or status 0 when the server sent nothing. */
export function parseRaw(raw: string): {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
} {
  const status = Number(raw.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  const contentType = raw.match(/\r\ncontent-type: ([^\r]+)/i)?.[1] ?? '';
  const text = raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  try {
    const json = text.slice(Math.max(text.indexOf('{'), 0));
    return { status, contentType, body: JSON.parse(json) as Record<string, unknown> };
  } catch {
    return { status, contentType, body: {} };
  }
}

export interface FloodResult {
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  seconds: number;
}

const floodDriver = fileURLToPath(new URL('./flood-driver.ts', import.meta.url));

/** Runs test/resilience/flood-driver.ts in a process of its own; kills it if it overruns. */
export function flood(spec: FloodSpec): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', floodDriver, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.durationMs + 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`flood driver exited ${code}: ${err}`));
      else resolve(JSON.parse(line) as FloodResult);
    });
  });
}
