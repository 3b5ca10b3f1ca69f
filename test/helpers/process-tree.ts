import { execFileSync } from 'node:child_process';

export interface ChildProcessInfo {
  pid: number;
  /** The executable's name as the kernel reports it (`ps -o comm`), e.g. `ffmpeg`, `esbuild`. */
  command: string;
}

/** The direct children of a process, by pid and executable name. */
export function childProcesses(pid: number): ChildProcessInfo[] {
  let listing: string;
  try {
    listing = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([child, command]) => Number(child) > 0 && command)
    .map(([child, command]) => ({ pid: Number(child), command: command! }));
}

/**
 * The ffmpeg/ffprobe children of a guardian process: only a process running an analysis has any. Every
 * process started through tsx also keeps an `esbuild` child, so "has children" says nothing.
 */
export function mediaToolChildren(pid: number): number[] {
  return childProcesses(pid)
    .filter((child) => child.command === 'ffmpeg' || child.command === 'ffprobe')
    .map((child) => child.pid);
}

/** Every direct child (a SIGKILLed process cannot reap them); the caller kills them once it is gone. */
export function allChildren(pid: number): number[] {
  return childProcesses(pid).map((child) => child.pid);
}

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
