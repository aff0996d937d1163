/**
 * The loop-delay monitor, in this process: a 300 ms busy-wait reads about 300, and
 * the per-interval figure survives a loop that is busy nearly all the time, which
 * defeats a perf_hooks histogram reset at every interval.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LoopDelayMonitor } from './node_loop_delay.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Blocks the loop for `ms`. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('LoopDelayMonitor', () => {
  it('reads a 300 ms busy-wait as about 300 ms of lateness, in its interval and in the total', async () => {
    const monitor = new LoopDelayMonitor();
    monitor.start();
    try {
      await sleep(100);
      monitor.interval(); // start a fresh interval
      await new Promise<void>((resolve) => setTimeout(() => { busyWait(300); resolve(); }, 20));
      await sleep(50);
      const interval = monitor.interval();
      expect(interval.maxMs).toBeGreaterThanOrEqual(250);
      expect(interval.maxMs).toBeLessThan(2000);
      expect(monitor.total().maxMs).toBeGreaterThanOrEqual(250);
    } finally {
      monitor.stop();
    }
  });

  it('still sees the intervals in which the loop was busy nearly all the time', async () => {
    const monitor = new LoopDelayMonitor();
    const resetEachTime = monitorEventLoopDelay({ resolution: 10 });
    monitor.start();
    resetEachTime.enable();
    const blocker = setInterval(() => busyWait(300), 1); // the loop is busy nearly all the time
    const perInterval: { ours: number; reset: number }[] = [];
    try {
      for (let i = 0; i < 4; i += 1) {
        await sleep(250);
        perInterval.push({ ours: monitor.interval().maxMs, reset: resetEachTime.count });
        resetEachTime.reset();
      }
    } finally {
      clearInterval(blocker);
      resetEachTime.disable();
      monitor.stop();
    }
    expect(perInterval.slice(1).every((i) => i.ours >= 250), JSON.stringify(perInterval)).toBe(true);
    // On Node 20.20.2 the reset histogram counted 0 samples in each of these intervals: the
    // trap the twin sampler avoids. Not asserted, since other Node versions may fix it.
  });
});
