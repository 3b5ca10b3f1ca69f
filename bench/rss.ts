import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

export interface RssFigures {
  /** Kernel high-water mark of the process's resident set (VmHWM), read before it exits. */
  hwmMiB: number | null;
  /** Highest VmRSS seen by polling. */
  sampledPeakMiB: number | null;
  /** Highest sum of VmRSS over the process and its descendants (ffmpeg/ffprobe), by polling. */
  treeSampledPeakMiB: number | null;
  samples: number;
}

export interface RssSampler {
  /** Takes a last sample, reads VmHWM, stops polling (later calls return the same figures). */
  stop(): RssFigures;
}

/** Polls a process's memory from /proc (Linux) every intervalMs until stopped. */
export function startRssSampler(pid: number, intervalMs = 100): RssSampler {
  let peakKiB: number | null = null;
  let treePeakKiB: number | null = null;
  let samples = 0;
  const sample = () => {
    const own = readStatusKiB(pid, 'VmRSS');
    if (own === null) return;
    samples += 1;
    peakKiB = Math.max(peakKiB ?? 0, own);
    const tree = descendants(pid)
      .filter((child) => !isTsxEsbuild(child))
      .reduce((sum, child) => sum + (readStatusKiB(child, 'VmRSS') ?? 0), own);
    treePeakKiB = Math.max(treePeakKiB ?? 0, tree);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  let figures: RssFigures | null = null;
  return {
    stop() {
      if (figures) return figures;
      sample();
      clearInterval(timer);
      figures = {
        hwmMiB: toMiB(readStatusKiB(pid, 'VmHWM')),
        sampledPeakMiB: toMiB(peakKiB),
        treeSampledPeakMiB: toMiB(treePeakKiB),
        samples,
      };
      return figures;
    },
  };
}

/** A field of /proc/PID/status in KiB, or null when the process is gone or the field is absent. */
export function readStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  const status = readOr(() => readFileSync(`/proc/${pid}/status`, 'utf8'), '');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match?.[1] ? Number(match[1]) : null;
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const child of childrenOf(next)) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process of ours; false where the kernel does not allow it. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The command line of a process, arguments joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  return readOr(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8'), '')
    .split('\0')
    .join(' ')
    .trim();
}

/** The executable a process runs ('' once it is gone): a child just forked still shows its parent's. */
export function executable(pid: number): string {
  return readOr(() => readlinkSync(`/proc/${pid}/exe`), '');
}

// A child may be forked by any thread (libuv's worker pool too), so every task's list counts.
export function childrenOf(pid: number): number[] {
  return readOr(() => readdirSync(`/proc/${pid}/task`), []).flatMap((task) =>
    readOr(() => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'), '')
      .split(' ')
      .filter(Boolean)
      .map(Number),
  );
}

// Running from source, tsx keeps an esbuild service child; a deployed build has none, so it is not counted.
function isTsxEsbuild(pid: number): boolean {
  return readOr(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), '') === 'esbuild';
}

// Processes and threads come and go between two reads; a vanished one simply has nothing to report.
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function toMiB(kib: number | null): number | null {
  return kib === null ? null : kib / 1024;
}
