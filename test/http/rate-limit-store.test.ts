import { createServer, type Server, type Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rateLimits, registerRateLimits } from '../../src/http/rate-limits.js';

/** Enough of Redis for ioredis to get ready (RESP2), then no answer to a script: a stuck server, not a dead one. */
async function stuckRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (data) => {
      // Each command is an array of bulk strings: its first element is the command's name.
      const names = data
        .toString('latin1')
        .split(/\*\d+\r\n/)
        .filter(Boolean)
        .map((command) => command.split('\r\n')[1]?.toLowerCase() ?? '');
      for (const name of names) {
        if (name.startsWith('eval')) continue;
        if (name === 'hello') socket.write("-ERR unknown command 'hello'\r\n");
        else if (name === 'info') {
          const info = '# Server\r\nredis_version:7.0.15\r\nloading:0\r\n';
          socket.write(`$${info.length}\r\n${info}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const warnings: string[] = [];
const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  warnings.length = 0;
});

async function appOver(client: Redis): Promise<FastifyInstance> {
  const app = Fastify();
  vi.spyOn(app.log, 'warn').mockImplementation((_object: unknown, message?: string) => {
    warnings.push(message ?? '');
  });
  await registerRateLimits(app, { redis: { client, keyPrefix: 'guardian-test-fallback' } });
  app.get('/livez', async () => ({ status: 'ok' }));
  app.post('/api/v1/auth/probe', async () => ({}));
  await app.ready();
  cleanups.push(() => app.close());
  return app;
}

const auth = (app: FastifyInstance) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/probe', remoteAddress: '203.0.113.9' });

describe('rate limits over a Redis that is down', () => {
  it('count in this process at once: requests pass, and a client past the limit still gets 429', async () => {
    // Nothing listens on port 1: the client never becomes ready.
    const client = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    cleanups.push(() => client.disconnect());
    const app = await appOver(client);

    const started = performance.now();
    const live = await app.inject({ method: 'GET', url: '/livez' });
    expect(live.statusCode).toBe(200);
    expect(Number(live.headers['x-ratelimit-remaining'])).toBe(rateLimits.global.max - 1);
    expect(performance.now() - started).toBeLessThan(500);
    for (let request = 1; request <= rateLimits.auth.max; request += 1)
      expect((await auth(app)).statusCode).toBe(200);
    expect((await auth(app)).statusCode).toBe(429);
    expect(warnings).toEqual(['rate limit counting in this process: Redis unavailable']);
  });

  it('count in this process when a connected Redis stops answering, after a bounded wait', async () => {
    const stuck = await stuckRedis();
    cleanups.push(() => stuck.close());
    const client = new Redis(stuck.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    cleanups.push(() => client.disconnect());
    await new Promise((resolve) => client.once('ready', resolve));
    const app = await appOver(client);

    const started = performance.now();
    const live = await app.inject({ method: 'GET', url: '/livez' });
    const waitedMs = performance.now() - started;
    expect(live.statusCode).toBe(200);
    expect(Number(live.headers['x-ratelimit-remaining'])).toBe(rateLimits.global.max - 1);
    expect(waitedMs).toBeGreaterThanOrEqual(900);
    expect(waitedMs).toBeLessThan(3_000);
    expect(warnings).toEqual(['rate limit counting in this process: Redis unavailable']);
  });
});
