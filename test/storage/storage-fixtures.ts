import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino, { type Logger } from 'pino';
import { kekFromMasterKey, type Keyring } from '../../src/storage/master-key.js';

export function newKeyring(): Keyring {
  return { current: kekFromMasterKey(randomBytes(32)), previous: [] };
}

/** A real pino logger whose lines are kept for assertions. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'guardian-storage-'));
}

export async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTempDir();
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function collect(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** Buffer memory still referenced after a full collection: garbage awaiting GC would make raw numbers noisy. */
export function liveBufferBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().arrayBuffers;
}
