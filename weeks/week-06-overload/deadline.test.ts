/**
 * The budget split over the deadline stages: where each stage's share ends, how a split
 * is read from a flag and refused when it does not add up, and what an expiry says.
 */
import { describe, expect, it } from 'vitest';
import { DEADLINE_STAGES, checkDeadline, deadlineAfter, deadlineError, firstExpiredStage, parseStageSplit, stageEndMs } from './deadline.ts';

const SPLIT = { admission: 10, queue: 40, pool: 40, reply: 10 } as const;

describe('a budget split over the stages', () => {
  it('ends each stage at the first byte plus the shares up to it, the last at the whole deadline', () => {
    const deadline = deadlineAfter(1000, 200, SPLIT);
    expect(DEADLINE_STAGES.map((stage) => stageEndMs(deadline, stage))).toEqual([1020, 1100, 1180, 1200]);
  });

  it('without a split, every stage ends at the whole deadline, as before', () => {
    const deadline = deadlineAfter(1000, 200);
    expect(DEADLINE_STAGES.map((stage) => stageEndMs(deadline, stage))).toEqual([1200, 1200, 1200, 1200]);
  });

  it('a stage with no share ends where the one before it ended', () => {
    const deadline = deadlineAfter(0, 1000, { admission: 0, queue: 50, pool: 0, reply: 50 });
    expect(DEADLINE_STAGES.map((stage) => stageEndMs(deadline, stage))).toEqual([0, 500, 500, 1000]);
  });

  it('names the stage whose own share ran out first, even with the whole deadline still ahead', () => {
    const deadline = deadlineAfter(0, 1000, SPLIT);
    expect(firstExpiredStage(deadline, [{ stage: 'admission', atMs: 50 }, { stage: 'queue', atMs: 600 }, { stage: 'pool', atMs: 610 }])).toBe('queue');
    expect(firstExpiredStage(deadline, [{ stage: 'admission', atMs: 50 }, { stage: 'queue', atMs: 450 }, { stage: 'pool', atMs: 850 }])).toBeUndefined();
    expect(() => checkDeadline(deadline, 600, 'queue')).toThrow(expect.objectContaining({ code: 'E_DEADLINE_EXCEEDED' }));
    expect(() => checkDeadline(deadline, 600, 'pool')).not.toThrow();
  });

  it('says which share ran out and by how much, and keeps the whole-budget message without a split', () => {
    expect(deadlineError(deadlineAfter(0, 1000, SPLIT), 530, 'queue').message)
      .toBe('Cannot finish request: the queue stage\'s share of its 1000 ms budget (done by 500 ms after the first byte) ran out 30 ms ago');
    expect(deadlineError(deadlineAfter(0, 1000), 1030, 'queue').message)
      .toBe('Cannot finish request: its 1000 ms budget ran out 30 ms before the queue stage');
  });

  it('reads a split from its flag form, each stage once, in any order', () => {
    expect(parseStageSplit('queue=40,admission=10,reply=10,pool=40')).toEqual(SPLIT);
  });

  it.each([
    ['admission=10,queue=40,pool=40,reply=0', 'must add up to 100, got 90'],
    ['admission=10,queue=40,pool=40', 'no share for reply'],
    ['admission=10,queue=40,pool=40,egress=10', 'got "egress=10"'],
    ['admission=10,queue=40,queue=40,reply=10', 'got "queue=40"'],
    ['admission=10,queue=39.5,pool=40.5,reply=10', 'the queue share must be a whole percentage'],
    ['admission=-10,queue=60,pool=40,reply=10', 'the admission share must be a whole percentage'],
  ])('refuses %s (%s)', (text, why) => {
    expect(() => parseStageSplit(text)).toThrow(why);
  });

  it('refuses a split that does not add up when a deadline is made with it', () => {
    expect(() => deadlineAfter(0, 1000, { admission: 50, queue: 50, pool: 50, reply: 0 })).toThrow(RangeError);
  });
});
