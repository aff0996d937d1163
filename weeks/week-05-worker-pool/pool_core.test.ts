/**
 * The pool core's rules, with no threads: the time is a number and the "threads" are
 * the test, answering `dispatch` actions with `done`, or not at all.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PoolCore, type PoolAction } from './pool_core.ts';
import { encodeTaskError, rebuildTaskError } from './wire.ts';

/** A core with every slot ready at time 0. */
function readyCore(limits: { workers: number; maxQueue: number; taskBudgetMs?: number; batchSize?: number }): PoolCore {
  const core = new PoolCore({ taskBudgetMs: 100, ...limits });
  for (let slot = 0; slot < limits.workers; slot += 1) core.ready(slot, 0);
  return core;
}

const dispatches = (actions: readonly PoolAction[]) => actions.filter((a) => a.kind === 'dispatch');
const rejects = (actions: readonly PoolAction[]) => actions.flatMap((a) => (a.kind === 'reject' ? [a.error.code] : []));

describe('pool core', () => {
  describe('when the queue is full', () => {
    it('refuses the next task with definite E_QUEUE_FULL and counts it per type', () => {
      const core = readyCore({ workers: 2, maxQueue: 3 });
      const outcomes = Array.from({ length: 6 }, () => core.submit({ type: 'sha256', input: 1 }, 0));
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true, false]);
      const refused = outcomes[5];
      expect(refused?.ok === false && refused.error).toMatchObject({ code: 'E_QUEUE_FULL', definite: true });
      expect(core.depth).toBe(3);
      expect(core.running).toBe(2);
      expect(core.stats().byType.sha256?.rejected).toEqual({ E_QUEUE_FULL: 1 });
    });

    it('accepts again once a thread has taken a task off the queue', () => {
      const core = readyCore({ workers: 1, maxQueue: 1 });
      const first = core.submit({ type: 't', input: 1 }, 0);
      core.submit({ type: 't', input: 2 }, 0);
      expect(core.submit({ type: 't', input: 3 }, 0).ok).toBe(false);
      const batch = first.ok ? dispatches(first.actions)[0] : undefined;
      if (batch?.kind !== 'dispatch') throw new Error('expected a dispatch');
      core.done(0, batch.batch, [{ id: 1, ok: true, value: 1, runMs: 1 }], 5);
      expect(core.submit({ type: 't', input: 4 }, 5).ok).toBe(true);
    });

    it('holds the depth limit for any mix of submits and completions (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.array(fc.boolean(), { maxLength: 200 }), (workers, maxQueue, steps) => {
        const core = readyCore({ workers, maxQueue });
        const busy: { slot: number; batch: number; ids: number[] }[] = [];
        const settled = new Set<number>();
        let accepted = 0;
        const run = (actions: readonly PoolAction[]) => {
          for (const a of actions) {
            if (a.kind === 'dispatch') busy.push({ slot: a.slot, batch: a.batch, ids: a.tasks.map((t) => t.id) });
            if (a.kind === 'resolve' || a.kind === 'reject') settled.add(a.id);
          }
        };
        for (const submit of steps) {
          if (submit || busy.length === 0) {
            const outcome = core.submit({ type: 't', input: 0 }, 0);
            if (outcome.ok) { accepted += 1; run(outcome.actions); }
          } else {
            const b = busy.shift() as (typeof busy)[number];
            run(core.done(b.slot, b.batch, b.ids.map((id) => ({ id, ok: true, value: 0, runMs: 0 })), 0));
          }
          expect(core.depth).toBeLessThanOrEqual(maxQueue);
        }
        while (busy.length > 0) {
          const b = busy.shift() as (typeof busy)[number];
          run(core.done(b.slot, b.batch, b.ids.map((id) => ({ id, ok: true, value: 0, runMs: 0 })), 0));
        }
        expect(settled.size).toBe(accepted);
      }), { seed: 5_0001, numRuns: 200 });
    });
  });

  describe('when a batch overruns its budget', () => {
    it('rejects its tasks with indefinite E_TASK_TIMEOUT and replaces only that thread', () => {
      const core = readyCore({ workers: 2, maxQueue: 4, taskBudgetMs: 50 });
      core.submit({ type: 'long', input: 0 }, 0);
      core.submit({ type: 'short', input: 0 }, 10);
      expect(core.nextDeadline()).toBe(50);
      expect(core.expire(49)).toEqual([]);
      const actions = core.expire(50);
      expect(actions).toContainEqual({ kind: 'replace', slot: 0 });
      expect(actions.find((a) => a.kind === 'reject')).toMatchObject({ id: 1, error: { code: 'E_TASK_TIMEOUT', definite: false } });
      expect(core.nextDeadline()).toBe(60); // slot 1's task still runs on its own budget
      expect(core.stats().replacedWorkers).toBe(1);
    });

    it('ignores a late report from the replaced thread', () => {
      const core = readyCore({ workers: 1, maxQueue: 4, taskBudgetMs: 50 });
      const first = core.submit({ type: 't', input: 0 }, 0);
      const batch = first.ok ? dispatches(first.actions)[0] : undefined;
      core.expire(60);
      expect(core.done(0, batch?.kind === 'dispatch' ? batch.batch : -1, [{ id: 1, ok: true, value: 1, runMs: 1 }], 61)).toEqual([]);
    });
  });

  describe('when tasks are batched', () => {
    it('sends up to batchSize queued tasks in one message, oldest first, with the summed budget', () => {
      const core = new PoolCore({ workers: 1, maxQueue: 100, taskBudgetMs: 10, batchSize: 4 });
      for (let i = 0; i < 6; i += 1) core.submit({ type: 't', input: i }, 0);
      const batches = dispatches(core.ready(0, 0));
      expect(batches).toHaveLength(1);
      expect(batches[0]?.kind === 'dispatch' && batches[0].tasks.map((t) => t.input)).toEqual([0, 1, 2, 3]);
      expect(core.nextDeadline()).toBe(40);
    });
  });

  describe('when a deadline passes in the queue', () => {
    it('drops the task with definite E_TASK_EXPIRED before it reaches a thread', () => {
      const core = new PoolCore({ workers: 1, maxQueue: 4, taskBudgetMs: 10 });
      core.submit({ type: 't', input: 0, deadline: 5 }, 0);
      const actions = core.ready(0, 6);
      expect(dispatches(actions)).toHaveLength(0);
      expect(actions[0]).toMatchObject({ kind: 'reject', error: { code: 'E_TASK_EXPIRED', definite: true } });
    });
  });

  describe('when the pool closes', () => {
    it('refuses new tasks with E_POOL_CLOSED, drains the queue, then stops each idle thread', () => {
      const core = readyCore({ workers: 1, maxQueue: 4 });
      const first = core.submit({ type: 't', input: 0 }, 0);
      core.submit({ type: 't', input: 1 }, 0);
      expect(core.close(1).filter((a) => a.kind === 'stop')).toEqual([]);
      const refused = core.submit({ type: 't', input: 2 }, 1);
      expect(refused.ok === false && refused.error.code).toBe('E_POOL_CLOSED');
      const b1 = first.ok ? dispatches(first.actions)[0] : undefined;
      const next = core.done(0, b1?.kind === 'dispatch' ? b1.batch : -1, [{ id: 1, ok: true, value: 0, runMs: 0 }], 2);
      const b2 = dispatches(next)[0];
      const last = core.done(0, b2?.kind === 'dispatch' ? b2.batch : -1, [{ id: 2, ok: true, value: 0, runMs: 0 }], 3);
      expect(last).toContainEqual({ kind: 'stop', slot: 0 });
      expect(core.drained).toBe(false);
      core.exited(0, 'exit code 0', 4);
      expect(core.drained).toBe(true);
    });

    it('abort fails queued tasks with definite E_POOL_CLOSED and running ones with indefinite E_TASK_ABORTED', () => {
      const core = readyCore({ workers: 1, maxQueue: 4 });
      core.submit({ type: 't', input: 0 }, 0);
      core.submit({ type: 't', input: 1 }, 0);
      expect(rejects(core.abort()).sort()).toEqual(['E_POOL_CLOSED', 'E_TASK_ABORTED']);
    });
  });

  describe('when a thread dies mid-batch', () => {
    it('fails its tasks with E_WORKER_EXITED and starts a replacement', () => {
      const core = readyCore({ workers: 1, maxQueue: 4 });
      core.submit({ type: 't', input: 0 }, 0);
      const actions = core.exited(0, 'exit code 3', 1);
      expect(rejects(actions)).toEqual(['E_WORKER_EXITED']);
      expect(actions).toContainEqual({ kind: 'replace', slot: 0 });
    });
  });
});

describe('errors as data', () => {
  it('keeps a thrown code and definite flag, and rebuilds a CivicError from them', () => {
    const data = encodeTaskError(Object.assign(new Error('Cannot verify: bad signature'), { code: 'E_SIG_INVALID', definite: true }));
    expect(data).toEqual({ code: 'E_SIG_INVALID', message: 'Cannot verify: bad signature', definite: true });
    expect(rebuildTaskError(data)).toMatchObject({ name: 'CivicError', code: 'E_SIG_INVALID', definite: true });
  });

  it('maps an uncoded throw to indefinite E_TASK_FAILED', () => {
    expect(encodeTaskError(new TypeError('x is undefined'))).toMatchObject({ code: 'E_TASK_FAILED', definite: false });
    expect(encodeTaskError('a string')).toMatchObject({ code: 'E_TASK_FAILED' });
  });
});
