/** Pure geometry of the per-frame timeline: seconds ↔ SVG x, scores 0–1 ↔ y, and tick marks. */

export function timeToX(seconds: number, durationSeconds: number, width: number): number {
  if (!(durationSeconds > 0)) return 0;
  return clamp(seconds / durationSeconds, 0, 1) * width;
}

export function xToTime(x: number, width: number, durationSeconds: number): number {
  if (!(width > 0) || !(durationSeconds > 0)) return 0;
  return clamp(x / width, 0, 1) * durationSeconds;
}

/** A score of 1 at the top, 0 at the bottom. */
export function scoreToY(score: number, height: number): number {
  return (1 - clamp(score, 0, 1)) * height;
}

/** An SVG path through the points in time order; empty when there are none. */
export function seriesPath(
  points: readonly { timeSeconds: number; score: number }[],
  durationSeconds: number,
  width: number,
  height: number,
): string {
  return [...points]
    .sort((a, b) => a.timeSeconds - b.timeSeconds)
    .map((point, index) => {
      const x = timeToX(point.timeSeconds, durationSeconds, width).toFixed(1);
      const y = scoreToY(point.score, height).toFixed(1);
      return `${index === 0 ? 'M' : 'L'}${x} ${y}`;
    })
    .join(' ');
}

const tickSteps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** Round second marks, at most `maxTicks` of them, from 0 to the duration. */
export function timeTicks(durationSeconds: number, maxTicks = 8): number[] {
  if (!(durationSeconds > 0)) return [0];
  const step = tickSteps.find((candidate) => durationSeconds / candidate <= maxTicks) ?? 7200;
  const ticks: number[] = [];
  for (let tick = 0; tick <= durationSeconds + 1e-9; tick += step) ticks.push(Number(tick.toFixed(3)));
  return ticks;
}

/** 75.5 → "1:15.5": minutes and seconds, tenths when the time has them. */
export function formatTime(seconds: number): string {
  const safe = Math.max(0, seconds);
  const minutes = Math.floor(safe / 60);
  const rest = safe - minutes * 60;
  const tenths = Math.round(rest * 10) / 10;
  const text = Number.isInteger(tenths) ? String(tenths) : tenths.toFixed(1);
  return `${minutes}:${tenths < 10 ? '0' : ''}${text}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
