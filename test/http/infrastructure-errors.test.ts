import { createServer } from 'node:net';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { isDependencyOutage, isStorageFull } from '../../src/services/infrastructure-errors.js';
import { registerProblemHandlers } from '../../src/http/problem-details.js';

const postgresUrl = process.env.TEST_DATABASE_URL;
const requirePostgres = !postgresUrl && process.env.CI === 'true';

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** The error `pg` throws for a query on a connection the server closed (an immediate shutdown does this). */
async function terminatedConnectionError(url: string): Promise<unknown> {
  const victim = new pg.Client({ connectionString: url });
  const admin = new pg.Client({ connectionString: url });
  await victim.connect();
  await admin.connect();
  victim.on('error', () => undefined);
  try {
    const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
    await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    return await errorOf(() => victim.query('select 1'));
  } finally {
    await admin.end();
    await victim.end().catch(() => undefined);
  }
}

describe('dependency outages are told apart from bugs', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((client) => client.disconnect()));

  it('recognises PostgreSQL refusing connections', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    const error = await errorOf(() => pool.query('select 1'));
    await pool.end();
    expect(isDependencyOutage(error)).toBe(true);
    // Wrapped (as services rethrow with a cause), it is still an outage.
    expect(isDependencyOutage(new Error('listing media failed', { cause: error }))).toBe(true);
  });

  it('recognises Redis being down (ioredis gives up after its retries)', async () => {
    const port = await closedPort();
    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 10 });
    client.on('error', () => undefined);
    clients.push(client);
    const error = await errorOf(() => client.get('key'));
    expect(isDependencyOutage(error)).toBe(true);
  });

  it('recognises a full file system (a real ENOSPC from /dev/full), and does not call it an outage', async () => {
    const error = await errorOf(() => writeFile('/dev/full', 'bytes'));
    expect(isStorageFull(error)).toBe(true);
    expect(isStorageFull(new Error('sealing a blob failed', { cause: error }))).toBe(true);
    expect(isDependencyOutage(error)).toBe(false);
    expect(isStorageFull(new TypeError('bug'))).toBe(false);
  });

  it('does not call a programming error or a bad query an outage', () => {
    expect(isDependencyOutage(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(
      false,
    );
    expect(
      isDependencyOutage(Object.assign(new Error('syntax error at or near "selct"'), { code: '42601' })),
    ).toBe(false);
    expect(isDependencyOutage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDependencyOutage(null)).toBe(false);
  });

  it.skipIf(!postgresUrl && !requirePostgres)(
    'recognises a PostgreSQL server terminating the connection (57P01)',
    async () => {
      if (!postgresUrl) throw new Error('CI needs TEST_DATABASE_URL');
      const error = await terminatedConnectionError(postgresUrl);
      expect(isDependencyOutage(error)).toBe(true);
    },
  );

  it('answers 503 (with Retry-After) for an outage and 507 for a full disk, not 500', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    const app = Fastify({ logger: false });
    registerProblemHandlers(app);
    app.get('/outage', async () => pool.query('select 1'));
    app.get('/full', async () => writeFile('/dev/full', 'bytes'));
    app.get('/bug', async () => {
      throw new TypeError('bug');
    });
    try {
      const outage = await app.inject({ method: 'GET', url: '/outage' });
      expect(outage.statusCode).toBe(503);
      expect(outage.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(outage.headers['retry-after']).toBe('5');
      expect(outage.json()).toMatchObject({ status: 503, code: 'service-unavailable' });
      expect(outage.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at /);
      const full = await app.inject({ method: 'GET', url: '/full' });
      expect(full.statusCode).toBe(507);
      expect(full.json()).toMatchObject({ status: 507, code: 'insufficient-storage' });
      expect(full.body).not.toMatch(/ENOSPC|dev\/full/);
      const bug = await app.inject({ method: 'GET', url: '/bug' });
      expect(bug.statusCode).toBe(500);
      expect(bug.json()).toMatchObject({ code: 'internal-error' });
    } finally {
      await app.close();
      await pool.end();
    }
  });
});
