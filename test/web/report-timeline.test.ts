import { describe, expect, it } from 'vitest';
import {
  formatTime,
  scoreToY,
  seriesPath,
  timeTicks,
  timeToX,
  xToTime,
} from '../../web/src/pages/report/timeline-scale.js';

describe('the report timeline scale', () => {
  it('maps seconds to x and back across the plot width', () => {
    expect(timeToX(0, 4, 400)).toBe(0);
    expect(timeToX(3, 4, 400)).toBe(300);
    expect(timeToX(4, 4, 400)).toBe(400);
    expect(xToTime(300, 400, 4)).toBe(3);
    expect(xToTime(timeToX(1.25, 10, 640), 640, 10)).toBeCloseTo(1.25, 9);
  });

  it('clamps clicks and times outside the plot to its ends', () => {
    expect(xToTime(-20, 400, 4)).toBe(0);
    expect(xToTime(450, 400, 4)).toBe(4);
    expect(timeToX(-1, 4, 400)).toBe(0);
    expect(timeToX(9, 4, 400)).toBe(400);
  });

  it('never divides by an unknown or zero duration or width', () => {
    expect(timeToX(2, 0, 400)).toBe(0);
    expect(timeToX(2, Number.NaN, 400)).toBe(0);
    expect(xToTime(100, 0, 4)).toBe(0);
    expect(xToTime(100, 400, 0)).toBe(0);
    expect(timeTicks(0)).toEqual([0]);
  });

  it('puts score 1 at the top and 0 at the bottom, clamping scores outside 0–1', () => {
    expect(scoreToY(1, 100)).toBe(0);
    expect(scoreToY(0, 100)).toBe(100);
    expect(scoreToY(0.25, 100)).toBe(75);
    expect(scoreToY(3, 100)).toBe(0);
    expect(scoreToY(-1, 100)).toBe(100);
  });

  it('draws a series in time order whatever order the report lists it in', () => {
    const path = seriesPath(
      [
        { timeSeconds: 2, score: 0 },
        { timeSeconds: 0, score: 1 },
        { timeSeconds: 1, score: 0.5 },
      ],
      2,
      200,
      100,
    );
    expect(path).toBe('M0.0 0.0 L100.0 50.0 L200.0 100.0');
    expect(seriesPath([], 2, 200, 100)).toBe('');
  });

  it('marks round seconds, no more than asked for', () => {
    expect(timeTicks(4)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(timeTicks(4, 4)).toEqual([0, 1, 2, 3, 4]);
    expect(timeTicks(95)).toEqual([0, 15, 30, 45, 60, 75, 90]);
    for (const duration of [0.3, 7, 61, 599, 3601, 20_000]) {
      const ticks = timeTicks(duration);
      expect(ticks.length).toBeLessThanOrEqual(9);
      expect(ticks.at(-1)).toBeLessThanOrEqual(duration);
    }
  });

  it('writes times as minutes and seconds', () => {
    expect(formatTime(0)).toBe('0:00');
    expect(formatTime(3)).toBe('0:03');
    expect(formatTime(2.04)).toBe('0:02');
    expect(formatTime(2.5)).toBe('0:02.5');
    expect(formatTime(75.5)).toBe('1:15.5');
    expect(formatTime(-1)).toBe('0:00');
  });
});
