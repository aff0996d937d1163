/**
 * The connection deadlines, driven by a hand-moved clock.
 */
import { describe, expect, it } from 'vitest';
import { ActivityTracker } from './timeouts.ts';

function manualClock(start = 1000) {
  let now = start;
  return { now: () => now, set: (ms: number) => void (now = ms) };
}

describe('ActivityTracker', () => {
  const policy = { idleMs: 300, readMs: 500 };

  it('expires with idle_timeout after idleMs of silence at a frame boundary, not before', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker(policy, clock);
    expect(tracker.deadline()).toEqual({ atMs: 1300, reason: 'idle_timeout' });
    clock.set(1299);
    expect(tracker.expired()).toBeUndefined();
    clock.set(1300);
    expect(tracker.expired()).toEqual({ atMs: 1300, reason: 'idle_timeout' });
  });

  it('pushes the idle deadline back on every read and write', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker(policy, clock);
    clock.set(1200);
    tracker.onRead(false);
    clock.set(1400);
    tracker.onWrite();
    expect(tracker.deadline()).toEqual({ atMs: 1700, reason: 'idle_timeout' });
  });

  it('measures the read timeout from the frame\'s first byte, so dribbling bytes does not extend it', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker({ idleMs: 300, readMs: 1000 }, clock);
    tracker.onRead(true); // a frame begins at 1000
    for (let t = 1100; t < 2000; t += 100) {
      clock.set(t);
      tracker.onRead(true); // one more byte every 100 ms
      expect(tracker.expired()).toBeUndefined();
    }
    clock.set(2000);
    expect(tracker.expired()).toEqual({ atMs: 2000, reason: 'read_timeout' });
  });

  it('mid-frame, silence is a read timeout too', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker(policy, clock);
    tracker.onRead(true);
    expect(tracker.deadline()).toEqual({ atMs: 1300, reason: 'read_timeout' });
  });

  it('forgets the frame start once the frame completes', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker(policy, clock);
    tracker.onRead(true);
    expect(tracker.frameStartedMs).toBe(1000);
    clock.set(1100);
    tracker.onRead(false);
    expect([tracker.frameStartedMs, tracker.deadline().reason]).toEqual([undefined, 'idle_timeout']);
  });

  it('restarts the read clock for a frame that begins in the chunk that finished the previous one', () => {
    const clock = manualClock();
    const tracker = new ActivityTracker(policy, clock);
    tracker.onRead(true); // frame 1 begins at 1000
    clock.set(1400);
    tracker.onRead(true, 1); // frame 1 ends and frame 2 begins at 1400
    expect(tracker.frameStartedMs).toBe(1400);
    clock.set(1450);
    tracker.onRead(true); // more of frame 2
    expect(tracker.frameStartedMs).toBe(1400);
  });

  it('throws a RangeError for a limit that is not a positive number', () => {
    expect(() => new ActivityTracker({ idleMs: 0, readMs: 1 }, manualClock())).toThrow(RangeError);
    expect(() => new ActivityTracker({ idleMs: 1, readMs: Number.NaN }, manualClock())).toThrow(RangeError);
  });
});
