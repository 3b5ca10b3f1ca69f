import { readFileSync, readdirSync } from 'node:fs';

/** Resident set size of one process in bytes (Linux /proc), or null once it has exited. */
export function residentBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The process and all its descendants (ffmpeg/ffprobe children of the server), summed. */
export function treeResidentBytes(pid: number): number {
  let total = residentBytes(pid) ?? 0;
  for (const child of childPids(pid)) total += treeResidentBytes(child);
  return total;
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}
