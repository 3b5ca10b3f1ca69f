import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

const stderrTailChars = 2000;

/** ffmpeg or ffprobe with an argument array (never a shell); stdout collected, failure carries the stderr tail. */
export async function runTool(binary: string, args: readonly string[], signal: AbortSignal): Promise<Buffer> {
  const child = spawnTool(binary, args, signal);
  child.stdin.end();
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exited(child, binary, args, signal);
  return Buffer.concat(chunks);
}

/** ffmpeg reading raw frames on stdin, written with backpressure. */
export interface FrameSink {
  write(frame: Uint8Array | Uint8ClampedArray): Promise<void>;
  /** Ends the input and waits for ffmpeg to finish the file. */
  close(): Promise<void>;
  /** Kills ffmpeg (on failure elsewhere); never throws. */
  kill(): void;
}

export function openFrameSink(binary: string, args: readonly string[], signal: AbortSignal): FrameSink {
  const child = spawnTool(binary, args, signal);
  child.stdout.resume();
  const done = exited(child, binary, args, signal);
  // Surfaces an early exit (bad arguments) at the next write instead of an EPIPE.
  let failure: unknown = null;
  done.catch((error: unknown) => {
    failure = error;
  });
  child.stdin.on('error', () => undefined);
  return {
    async write(frame) {
      if (failure) throw failure;
      if (!child.stdin.write(frame)) {
        await Promise.race([once(child.stdin, 'drain'), done]);
        if (failure) throw failure;
      }
    },
    async close() {
      child.stdin.end();
      await done;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

function spawnTool(
  binary: string,
  args: readonly string[],
  signal: AbortSignal,
): ChildProcessWithoutNullStreams {
  return spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'], signal });
}

async function exited(
  child: ChildProcessWithoutNullStreams,
  binary: string,
  args: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-stderrTailChars);
  });
  const [code] = (await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (...result) => resolve(result));
  })) as [number | null, NodeJS.Signals | null];
  signal.throwIfAborted();
  if (code !== 0) {
    const name = binary.split('/').pop() ?? binary;
    throw new Error(
      `${name} ${args
        .filter((arg) => !arg.startsWith('/'))
        .slice(0, 12)
        .join(' ')} failed (exit ${code}): ${stderr.trim()}`,
    );
  }
}
