import { describe, expect, it } from 'vitest';
import { startTreeHeadTimer } from '../../src/services/tree-head-timer.js';
import { testLogger } from '../helpers/databases.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tree head timer', () => {
  it('runs one tick at a time, keeps going after a failure, and stop waits for the tick in progress', async () => {
    let running = 0;
    let overlapped = false;
    let ticks = 0;
    let finished = 0;
    const timer = startTreeHeadTimer({
      intervalMs: 5,
      log: testLogger(),
      async tick() {
        running += 1;
        overlapped ||= running > 1;
        ticks += 1;
        await sleep(30);
        running -= 1;
        finished += 1;
        if (ticks === 1) throw new Error('database unavailable');
      },
    });
    while (ticks < 3) await sleep(5);
    await timer.stop();
    expect(finished).toBe(ticks);
    const afterStop = ticks;
    await sleep(60);
    expect(ticks).toBe(afterStop);
    expect(overlapped).toBe(false);
  });
});
