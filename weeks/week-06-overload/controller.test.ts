/**
 * The controller with a fake runner and a hand-moved clock: each deadline stage drops
 * what it should, every offered request gets exactly one outcome, and a drop is logged
 * once with its stage.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, memorySink } from '../../lib/framing.ts';
import { OverloadController, type TaskInput, type TaskOutput, type TaskRunner, type WorkOutcome } from './controller.ts';
import { deadlineAfter, firstExpiredStage, type StageSplit } from './deadline.ts';
import type { Priority } from './ladder.ts';

/** A clock the test moves by hand. */
function manualClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

/** A runner whose tasks finish when the test says; a task found expired when it starts is dropped, as the worker does. */
function fakeRunner(clock: { now(): number }) {
  const running: { input: TaskInput; startedMs: number; finish: (o: TaskOutput) => void }[] = [];
  const runner: TaskRunner = {
    submit<I, O>(_type: string, input: I): Promise<O> {
      return new Promise<O>((resolve) => running.push({ input: input as TaskInput, startedMs: clock.now(), finish: (o) => resolve(o as O) }));
    },
  };
  /** Finishes the oldest running task now. */
  function finishOne(): void {
    const task = running.shift();
    if (task === undefined) return;
    const late = task.startedMs - task.input.deadlineMs;
    task.finish(late >= 0 ? { dropped: true, lateMs: late } : { dropped: false, body: new Uint8Array([1]) });
  }
  return { runner, running, finishOne };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(concurrency = 1) {
  const clock = manualClock();
  const sink = memorySink();
  const logger = createLogger({ clock, ids: { next: () => 'id' }, sink: sink.sink });
  const fake = fakeRunner(clock);
  const controller = new OverloadController({ runner: fake.runner, concurrency, clock, logger });
  const outcomes = new Map<string, WorkOutcome[]>();
  const offer = (requestId: string, budgetMs: number, priority: Priority = 'high', split?: StageSplit) => {
    outcomes.set(requestId, []);
    controller.offer(
      { requestId, task: 'spin', arg: 1, priority, deadline: deadlineAfter(clock.t, budgetMs, split), body: new Uint8Array(0) },
      (o) => outcomes.get(requestId)?.push(o),
    );
  };
  const drops = () => sink.records.filter((r) => r.msg === 'request dropped').map((r) => ({ id: r.request_id, stage: r.fields?.stage }));
  return { clock, controller, fake, outcomes, offer, drops, sink };
}

describe('the overload controller', () => {
  it('drops at admission a request whose budget is spent before it is offered', () => {
    const { offer, outcomes, drops } = setup();
    offer('a', 0);
    expect(outcomes.get('a')).toEqual([expect.objectContaining({ ok: false, errorCode: 'E_DEADLINE_EXCEEDED', stage: 'admission' })]);
    expect(drops()).toEqual([{ id: 'a', stage: 'admission' }]);
  });

  it('drops in the queue a request that expires while waiting, on the next tick, without running it', async () => {
    const { clock, controller, offer, outcomes, drops, fake } = setup();
    offer('busy', 10_000);
    offer('waits', 100);
    clock.t = 150;
    controller.tick();
    expect(outcomes.get('waits')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue' })]);
    expect(fake.running).toHaveLength(1);
    expect(drops()).toEqual([{ id: 'waits', stage: 'queue' }]);
  });

  it('drops in the pool a task handed over in time whose worker finds it expired when it starts', async () => {
    const { clock, offer, outcomes, drops, fake } = setup();
    offer('p', 100);
    fake.running[0] = { ...(fake.running[0] as (typeof fake.running)[0]), startedMs: 120 }; // the worker got to it late
    clock.t = 130;
    fake.finishOne();
    await settle();
    expect(outcomes.get('p')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'pool' })]);
    expect(drops()).toEqual([{ id: 'p', stage: 'pool' }]);
  });

  it('drops at the reply stage a result that comes back after the deadline', async () => {
    const { clock, offer, outcomes, drops, fake } = setup();
    offer('r', 100);
    clock.t = 250;
    fake.finishOne();
    await settle();
    expect(outcomes.get('r')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'reply' })]);
    expect(drops()).toEqual([{ id: 'r', stage: 'reply' }]);
  });

  describe('with the budget split over the stages', () => {
    /** 1000 ms shared out: admission done by 100, the queue by 500, the pool by 900, the reply by 1000. */
    const SPLIT: StageSplit = { admission: 10, queue: 40, pool: 40, reply: 10 };

    it('drops in the queue a request whose queue share ran out, long before its whole deadline, and logs the share it missed', () => {
      const { clock, controller, offer, outcomes, drops, sink } = setup();
      offer('busy', 10_000);
      offer('split', 1000, 'high', SPLIT);
      offer('whole', 1000);
      clock.t = 499;
      controller.tick();
      expect(drops()).toEqual([]);
      clock.t = 500;
      controller.tick();
      expect(outcomes.get('split')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue' })]);
      expect((outcomes.get('split')?.[0] as { message: string }).message).toContain('the queue stage\'s share of its 1000 ms budget (done by 500 ms after the first byte)');
      expect(outcomes.get('whole')).toEqual([]); // the same wait without a split: still waiting, half its budget left
      expect(sink.records.find((r) => r.request_id === 'split')?.fields).toMatchObject({ stage: 'queue', budget_ms: 1000, stage_end_ms: 500, late_ms: 0 });
    });

    it('hands the worker the end of the pool share, so a task started after it is not run and is dropped at the pool stage', async () => {
      const { clock, offer, outcomes, drops, fake } = setup();
      offer('p', 1000, 'high', SPLIT);
      expect(fake.running[0]?.input.deadlineMs).toBe(900);
      fake.running[0] = { ...(fake.running[0] as (typeof fake.running)[0]), startedMs: 950 }; // the worker got to it after the pool share
      clock.t = 960;
      fake.finishOne();
      await settle();
      expect(outcomes.get('p')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'pool' })]);
      expect(drops()).toEqual([{ id: 'p', stage: 'pool' }]);
    });

    it('drops at admission a request that used up its admission share arriving, and admits one that arrived within it', () => {
      const { clock, controller, offer, outcomes } = setup();
      clock.t = 100;
      controller.offer(
        { requestId: 'slow-arrival', task: 'spin', arg: 1, priority: 'high', deadline: deadlineAfter(0, 1000, SPLIT), body: new Uint8Array(0) },
        (o) => outcomes.set('slow-arrival', [o]),
      );
      offer('on-time', 1000, 'high', SPLIT);
      expect(outcomes.get('slow-arrival')).toEqual([expect.objectContaining({ errorCode: 'E_DEADLINE_EXCEEDED', stage: 'admission' })]);
      expect(outcomes.get('on-time')).toEqual([]);
    });

    it('lets a result that came back within the whole deadline go out, even when it used the reply share', async () => {
      const { clock, offer, outcomes, fake } = setup();
      offer('r', 1000, 'high', SPLIT);
      clock.t = 950;
      fake.running[0] = { ...(fake.running[0] as (typeof fake.running)[0]), startedMs: 850 };
      fake.finishOne();
      await settle();
      expect(outcomes.get('r')).toEqual([{ ok: true, body: new Uint8Array([1]) }]);
    });
  });

  it('for any arrivals, budgets and finishing order: one outcome per request, one drop record per dropped request, at the first stage that could notice', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('offer' as const), budget: fc.integer({ min: 0, max: 300 }), high: fc.boolean() }),
      fc.record({ kind: fc.constant('finish' as const) }),
      fc.record({ kind: fc.constant('tick' as const) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 120 }) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 120 }), fc.integer({ min: 1, max: 3 }), async (steps, concurrency) => {
      const { clock, controller, fake, offer, outcomes, drops } = setup(concurrency);
      const offeredAt = new Map<string, { atMs: number; budget: number }>();
      let n = 0;
      for (const s of steps) {
        if (s.kind === 'offer') {
          const id = `q${(n += 1)}`;
          offeredAt.set(id, { atMs: clock.t, budget: s.budget });
          offer(id, s.budget, s.high ? 'high' : 'low');
        } else if (s.kind === 'finish') fake.finishOne();
        else if (s.kind === 'tick') controller.tick();
        else clock.t += s.ms;
        await settle();
      }
      while (fake.running.length > 0 || controller.depth > 0) { // drain
        clock.t += 50;
        controller.tick();
        fake.finishOne();
        await settle();
      }
      for (const [id, list] of outcomes) expect(list, id).toHaveLength(1);
      const dropped = drops();
      expect(new Set(dropped.map((d) => d.id)).size).toBe(dropped.length);
      for (const d of dropped) {
        const { atMs, budget } = offeredAt.get(d.id as string) as { atMs: number; budget: number };
        // Admission notices first exactly when the budget was spent on arrival.
        const atAdmission = firstExpiredStage(deadlineAfter(atMs, budget), [{ stage: 'admission', atMs }]) === 'admission';
        expect(d.stage === 'admission', d.id as string).toBe(atAdmission);
      }
      const stats = controller.stats();
      expect(stats.offered).toBe(outcomes.size);
      expect(stats.maxDepth).toBeLessThanOrEqual(32);
    }), { numRuns: 150 });
  });
});
