import type { Redis } from 'ioredis';

// QUIT waits for Redis to answer; a connection that cannot get one is dropped instead.
const quitTimeoutMs = 1_000;

/** Closes a connection whether or not Redis is up: QUIT when connected, else (or if QUIT fails or hangs) disconnect. */
export async function closeRedis(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const quit = connection.quit().then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), quitTimeoutMs);
    });
    const quitted = await Promise.race([quit, timedOut]).finally(() => clearTimeout(timer));
    if (quitted) return;
  }
  connection.disconnect();
}
