import type { CaseResult, FuzzRunResult } from './fuzz-run.js';

function histogram(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function outcomeOf(result: CaseResult): string {
  if (result.violations.length > 0)
    return `VIOLATION ${[...new Set(result.violations.map((v) => v.kind))].join('+')}`;
  if (result.status !== null && result.status >= 400) return `${result.status} ${result.code ?? '?'}`;
  return `201 done ${result.band ?? '?'}${result.decodedFrames === 0 ? ' (no frame decodes)' : ''}`;
}

/** Violations grouped by mutation class and kind, with a count and one example case each. */
export function violationGroups(
  results: CaseResult[],
): { group: string; count: number; example: string; detail: string }[] {
  const groups = new Map<string, { count: number; example: string; detail: string }>();
  for (const result of results) {
    for (const violation of result.violations) {
      const group = `${violation.kind} <- ${result.mutationClass}`;
      const entry = groups.get(group);
      if (entry) entry.count += 1;
      else groups.set(group, { count: 1, example: result.name, detail: violation.detail });
    }
  }
  return [...groups].map(([group, entry]) => ({ group, ...entry })).sort((a, b) => b.count - a.count);
}

export function formatSummary(run: FuzzRunResult): string {
  const lines = [
    `fuzz run: seed ${run.runSeed}, ${run.results.length} files in ${Math.round(run.durationMs / 1000)} s` +
      `${run.stoppedByTime ? ' (stopped by the time limit)' : ''}, server exit code ${String(run.serverExitCode)}`,
    `server RSS (node process, /proc VmRSS): after warm-up ${run.rss.afterWarmUpMiB} MiB, peak ${run.rss.peakMiB} MiB;` +
      ` server + ffmpeg children peak ${run.rss.peakTreeMiB} MiB`,
    'outcomes:',
    ...histogram(run.results.map(outcomeOf)).map(
      ([outcome, count]) => `  ${String(count).padStart(5)}  ${outcome}`,
    ),
    'outcomes per mutation class:',
    ...histogram(run.results.map((r) => `${r.mutationClass}: ${outcomeOf(r)}`)).map(
      ([outcome, count]) => `  ${String(count).padStart(5)}  ${outcome}`,
    ),
  ];
  const retried = run.results.filter((r) => r.failedAttempts > 0);
  if (retried.length > 0) lines.push(`analyses with a failed attempt logged: ${retried.length}`);
  const groups = violationGroups(run.results);
  lines.push(
    groups.length === 0 ? 'property violations: none' : `property violations (${groups.length} groups):`,
  );
  for (const group of groups)
    lines.push(
      `  ${String(group.count).padStart(5)}  ${group.group}\n         e.g. ${group.example}\n         ${group.detail}`,
    );
  if (run.leftovers.length > 0)
    lines.push(`files left behind: ${run.leftovers.map((file) => file.path).join(', ')}`);
  return lines.join('\n');
}
