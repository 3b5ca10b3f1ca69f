import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway redis-server on a free loopback port, its append-only file in a temp dir (fsync every second, as
 * shipped): a suite may `kill -9` it and start it again on the same port and file without touching the shared
 * test Redis. Jobs a client saw acknowledged survive the kill (the AOF is written before Redis replies; only an
 * OS crash could lose the last second).
 */
export interface LocalRedis {
  url: string;
  /** SIGKILL, as a crash; resolves once the process has exited. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it (if running) and deletes its files. */
  destroy(): Promise<void>;
}

export const localRedisUnavailable: string | null =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
    ? null
    : 'no redis-server binary on PATH (Debian package redis-server)';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once the port takes a TCP connection and answers PING (AOF loaded), within timeoutMs. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ponged = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(1_000, () => socket.destroy());
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('close', () => resolve(false));
      socket.once('error', () => resolve(false));
    });
    if (ponged) return;
    if (Date.now() > deadline) throw new Error(`local redis-server on port ${port} did not answer PING`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startLocalRedis(): Promise<LocalRedis> {
  if (localRedisUnavailable) throw new Error(`local Redis: ${localRedisUnavailable}`);
  const dir = mkdtempSync(join(tmpdir(), 'guardian-redis-'));
  const port = await freePort();
  let server: ChildProcess | null = null;
  const exited = new WeakMap<ChildProcess, Promise<void>>();

  const start = async () => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    exited.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
    server = child;
    await waitForPing(port, 15_000);
  };
  const kill9 = async () => {
    const child = server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // By pid: only the process this helper started.
    process.kill(child.pid!, 'SIGKILL');
    await exited.get(child);
    server = null;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    kill9,
    start,
    async destroy() {
      await kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
