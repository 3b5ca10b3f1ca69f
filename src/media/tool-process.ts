import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { MediaToolError, type MediaToolName } from './media-tool-error.js';

const stderrTailChars = 4096;

export interface ToolProcessOptions {
  tool: MediaToolName;
  binary: string;
  args: readonly string[];
  /** Longest time the tool may go without writing stdout while we wait for it. */
  idleTimeoutMs: number;
  /** Longest the run may take in all, output or not (MEDIA_TOOL_TIMEOUT_SECONDS). */
  wallClockMs?: number;
  /** Runs the binary under this prefix (e.g. `prlimit --as=N --`), which must exec it in place. */
  wrapper?: readonly string[];
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Sees every stderr line; returning true keeps the line out of the error tail (per-frame chatter). */
  onStderrLine?: (line: string) => boolean;
}

export interface ToolProcess {
  readonly tool: MediaToolName;
  /** Stdout chunks; the idle timer runs only while we wait for the next chunk, never while the consumer holds one. */
  chunks(): AsyncGenerator<Buffer>;
  /**
   * Settles once the process exited and its pipes closed: resolves on exit code 0 or after stop(),
   * rejects with the abort reason or a MediaToolError.
   */
  readonly finished: Promise<void>;
  /** Kills the process if it still runs (the consumer needs no more output); the run then counts as a success. */
  stop(): void;
  stderrTail(): string;
}

type Outcome = 'running' | 'stopped' | 'timeout' | 'overtime' | 'aborted';

/** Spawns a binary with an argument array (never a shell), stdin closed, stderr kept as a bounded tail. */
export function startToolProcess(options: ToolProcessOptions): ToolProcess {
  const { tool, signal } = options;
  signal?.throwIfAborted();
  const [command, ...args] = options.wrapper?.length
    ? [...options.wrapper, options.binary, ...options.args]
    : [options.binary, ...options.args];
  const child = spawn(command as string, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  let outcome: Outcome = 'running';
  let tail = '';
  let timer: NodeJS.Timeout | undefined;
  const wallClock =
    options.wallClockMs === undefined ? undefined : setTimeout(() => kill('overtime'), options.wallClockMs);

  const kill = (why: Exclude<Outcome, 'running'>) => {
    if (outcome !== 'running' || child.exitCode !== null || child.signalCode !== null) return;
    outcome = why;
    child.kill('SIGKILL');
  };
  const onAbort = () => kill('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });

  const keepLine = (line: string) => {
    if (line.trim() === '' || options.onStderrLine?.(line)) return;
    tail = `${tail}${line}\n`.slice(-stderrTailChars);
  };
  const decoder = new StringDecoder('utf8');
  let partialLine = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (partialLine + decoder.write(chunk)).split(/\r?\n|\r/);
    partialLine = lines.pop() ?? '';
    lines.forEach(keepLine);
  });
  child.stderr.on('end', () => keepLine(partialLine + decoder.end()));

  const failure = (details: Omit<ConstructorParameters<typeof MediaToolError>[0], 'tool' | 'stderrTail'>) =>
    new MediaToolError({ tool, stderrTail: tail, ...details });

  const finished = new Promise<void>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      clearTimeout(wallClock);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      if (child.pid !== undefined) return;
      settle();
      reject(
        failure({
          failure: 'spawn',
          exitCode: null,
          detail: `could not be started (${error.message})`,
          cause: error,
        }),
      );
    });
    child.once('close', (code, killSignal) => {
      settle();
      if (outcome === 'aborted')
        reject(signal?.reason ?? new DOMException('The operation was aborted', 'AbortError'));
      else if (outcome === 'stopped') resolve();
      else if (outcome === 'timeout') {
        reject(
          failure({
            failure: 'timeout',
            exitCode: code,
            detail: `stalled for ${options.idleTimeoutMs} ms and was stopped`,
          }),
        );
      } else if (outcome === 'overtime') {
        reject(
          failure({
            failure: 'timeout',
            exitCode: code,
            detail: `ran longer than ${options.wallClockMs} ms and was stopped`,
          }),
        );
      } else if (code !== 0) {
        const detail = killSignal ? `was killed by ${killSignal}` : `exited with code ${code}`;
        reject(failure({ failure: 'exit', exitCode: code, detail }));
      } else resolve();
    });
  });
  // Consumers await `finished` when they care; this only keeps an ignored failure from crashing the process.
  finished.catch(() => undefined);

  async function* chunks(): AsyncGenerator<Buffer> {
    const iterator = child.stdout[Symbol.asyncIterator]();
    try {
      for (;;) {
        signal?.throwIfAborted();
        timer = setTimeout(() => kill('timeout'), options.idleTimeoutMs);
        const next = await iterator.next();
        clearTimeout(timer);
        if (next.done) return;
        yield next.value as Buffer;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  return { tool, chunks, finished, stop: () => kill('stopped'), stderrTail: () => tail };
}

/** Whole stdout of a short-lived run, refusing more than maxBytes (a hostile file must not exhaust memory). */
export async function readAllOutput(run: ToolProcess, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of run.chunks()) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new MediaToolError({
          tool: run.tool,
          failure: 'output',
          exitCode: null,
          stderrTail: run.stderrTail(),
          detail: `wrote more than ${maxBytes} bytes of output`,
        });
      }
      parts.push(chunk);
    }
    await run.finished;
    return Buffer.concat(parts);
  } finally {
    run.stop();
  }
}

/** Stdout as text lines, decoded incrementally so large outputs are never held whole. */
export async function* readOutputLines(run: ToolProcess): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  try {
    for await (const chunk of run.chunks()) {
      const lines = (partial + decoder.write(chunk)).split(/\r?\n/);
      partial = lines.pop() ?? '';
      yield* lines;
    }
    const last = partial + decoder.end();
    if (last !== '') yield last;
    await run.finished;
  } finally {
    run.stop();
  }
}
