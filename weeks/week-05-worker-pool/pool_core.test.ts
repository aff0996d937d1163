/**
 * The pool core's rules, with no threads: the time is a number and the "threads" are
 * the test, answering `dispatch` actions with `done`, or not at all.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PoolCore, type PoolAction } from './pool_core.ts';
import { encodeTaskError, rebuildTaskError } from './wire.ts';

/** A core with every slot ready at time 0. */
function readyCore(limits: { workers: number; maxQueue: number; taskBudgetMs?: number; batchSize?: number; pipelineDepth?: number }): PoolCore {
  const core = new PoolCore({ taskBudgetMs: 100, ...limits });
  for (let slot = 0; slot < limits.workers; slot += 1) core.ready(slot, 0);
  return core;
}

const dispatches = (actions: readonly PoolAction[]) => actions.filter((a) => a.kind === 'dispatch');
const rejects = (actions: readonly PoolAction[]) => actions.flatMap((a) => (a.kind === 'reject' ? [a.error.code] : []));
const batchOf = (outcome: ReturnType<PoolCore['submit']>): number => {
  const dispatch = outcome.ok ? dispatches(outcome.actions)[0] : undefined;
  if (dispatch?.kind !== 'dispatch') throw new Error('expected the task to be dispatched at once');
  return dispatch.batch;
};
const inputs = (actions: readonly PoolAction[]) => actions.flatMap((a) => (a.kind === 'dispatch' ? [a.tasks.map((t) => t.input)] : []));

describe('pool core', () => {
  describe('when the queue is full', () => {
    it('refuses the next task with definite E_QUEUE_FULL and counts it per type', () => {
      // Capacity: 2 threads × pipeline depth 2, plus 3 in the queue.
      const core = readyCore({ workers: 2, maxQueue: 3 });
      const outcomes = Array.from({ length: 8 }, () => core.submit({ type: 'sha256', input: 1 }, 0));
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true, true, true, false]);
      const refused = outcomes[7];
      expect(refused?.ok === false && refused.error).toMatchObject({ code: 'E_QUEUE_FULL', definite: true });
      expect(core.depth).toBe(3);
      expect(core.running).toBe(4);
      expect(core.stats().byType.sha256?.rejected).toEqual({ E_QUEUE_FULL: 1 });
    });

    it('accepts again once a thread has taken a task off the queue', () => {
      const core = readyCore({ workers: 1, maxQueue: 1, pipelineDepth: 1 });
      const first = core.submit({ type: 't', input: 1 }, 0);
      core.submit({ type: 't', input: 2 }, 0);
      expect(core.submit({ type: 't', input: 3 }, 0).ok).toBe(false);
      core.done(0, batchOf(first), [{ id: 1, ok: true, value: 1, runMs: 1 }], 5);
      expect(core.submit({ type: 't', input: 4 }, 5).ok).toBe(true);
    });

    it('holds the depth limit for any mix of submits and completions (property)', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.array(fc.boolean(), { maxLength: 200, size: 'max' }), (workers, maxQueue, steps) => {
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
      expect(actions).toContainEqual({ kind: 'terminate', slot: 0 });
      expect(actions.find((a) => a.kind === 'reject')).toMatchObject({ id: 1, error: { code: 'E_TASK_TIMEOUT', definite: false } });
      expect(core.nextDeadline()).toBe(60); // slot 1's task still runs on its own budget
      expect(core.stats().replacedWorkers).toBe(1);
      expect(core.exited(0, 'exit code 1', 55)).toEqual([{ kind: 'replace', slot: 0 }]);
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
      expect(inputs(core.ready(0, 0))).toEqual([[0, 1, 2, 3], [4, 5]]); // running, and next
      expect(core.nextDeadline()).toBe(40); // only the running batch has a budget
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
      const second = core.submit({ type: 't', input: 1 }, 0);
      core.submit({ type: 't', input: 2 }, 0);
      expect(core.close(1).filter((a) => a.kind === 'stop')).toEqual([]);
      const refused = core.submit({ type: 't', input: 3 }, 1);
      expect(refused.ok === false && refused.error.code).toBe('E_POOL_CLOSED');
      const third = dispatches(core.done(0, batchOf(first), [{ id: 1, ok: true, value: 0, runMs: 0 }], 2))[0];
      expect(core.done(0, batchOf(second), [{ id: 2, ok: true, value: 0, runMs: 0 }], 3).filter((a) => a.kind === 'stop')).toEqual([]);
      const last = core.done(0, third?.kind === 'dispatch' ? third.batch : -1, [{ id: 3, ok: true, value: 0, runMs: 0 }], 3);
      expect(last).toContainEqual({ kind: 'stop', slot: 0 });
      expect(core.drained).toBe(false);
      core.exited(0, 'exit code 0', 4);
      expect(core.drained).toBe(true);
    });

    it('abort fails queued tasks with definite E_POOL_CLOSED and those on threads with indefinite E_TASK_ABORTED', () => {
      const core = readyCore({ workers: 1, maxQueue: 4 });
      for (let i = 0; i < 3; i += 1) core.submit({ type: 't', input: i }, 0);
      expect(rejects(core.abort()).sort()).toEqual(['E_POOL_CLOSED', 'E_TASK_ABORTED', 'E_TASK_ABORTED']);
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

describe('pipelining: a thread holds up to pipelineDepth batches', () => {
  const ok = (...ids: number[]) => ids.map((id) => ({ id, ok: true as const, value: id, runMs: 1 }));

  it('fills idle threads first, then sends each its next batch, then queues', () => {
    const core = readyCore({ workers: 2, maxQueue: 4 });
    const slots = Array.from({ length: 5 }, (_, i) => core.submit({ type: 't', input: i }, 0)).map((o) => (o.ok ? dispatches(o.actions)[0] : undefined));
    expect(slots.map((d) => (d?.kind === 'dispatch' ? d.slot : 'queued'))).toEqual([0, 1, 0, 1, 'queued']);
    expect([core.running, core.depth]).toEqual([4, 1]);
  });

  it('pipelineDepth 1 sends a thread its next batch only once it has answered the last', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, pipelineDepth: 1 });
    const first = core.submit({ type: 't', input: 0 }, 0);
    const second = core.submit({ type: 't', input: 1 }, 0);
    expect(second.ok && dispatches(second.actions)).toEqual([]);
    expect(inputs(core.done(0, batchOf(first), ok(1), 5))).toEqual([[1]]);
  });

  it('starts the budget of the next batch when the one before it is done, not when it was sent', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, taskBudgetMs: 50 });
    const first = core.submit({ type: 't', input: 0 }, 0);
    core.submit({ type: 't', input: 1 }, 0);
    expect(core.nextDeadline()).toBe(50);
    core.done(0, batchOf(first), ok(1), 30);
    expect(core.nextDeadline()).toBe(80);
  });

  it('on an overrun, fails the running batch at once and, once the thread is dead, puts the batches behind it back at the front of the queue in order', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, taskBudgetMs: 50, pipelineDepth: 3 });
    for (const input of ['a', 'b', 'c', 'd']) core.submit({ type: 't', input }, 0);
    const expired = core.expire(50);
    expect(rejects(expired)).toEqual(['E_TASK_TIMEOUT']);
    expect(expired).toContainEqual({ kind: 'terminate', slot: 0 });
    expect([core.running, core.depth]).toEqual([2, 1]); // b and c wait for the thread's death
    const exited = core.exited(0, 'exit code 1', 52);
    expect(rejects(exited)).toEqual([]);
    expect(exited).toContainEqual({ kind: 'replace', slot: 0 });
    expect([core.running, core.depth]).toEqual([0, 3]);
    expect(inputs(core.ready(0, 60))).toEqual([['b'], ['c'], ['d']]);
    expect(core.stats().byType.t?.queueWaitMs.count).toBe(4); // a requeued task's wait is counted once
  });

  it('when the overrun batch answers after all, the next may have started: it fails indefinite, the rest go back', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, taskBudgetMs: 50, pipelineDepth: 3 });
    const first = core.submit({ type: 't', input: 'a' }, 0);
    core.submit({ type: 't', input: 'b' }, 0);
    core.submit({ type: 't', input: 'c' }, 0);
    core.expire(50);
    expect(core.done(0, batchOf(first), ok(1), 51)).toEqual([]); // too late: already answered E_TASK_TIMEOUT
    const exited = core.exited(0, 'exit code 1', 52);
    expect(exited.find((a) => a.kind === 'reject')).toMatchObject({ id: 2, error: { code: 'E_WORKER_EXITED', definite: false } });
    expect(core.depth).toBe(1);
  });

  it('a crash fails the batch the thread was in and puts the batches behind it back at the front of the queue', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, pipelineDepth: 3 });
    const first = core.submit({ type: 't', input: 'a' }, 0);
    for (const input of ['b', 'c', 'd']) core.submit({ type: 't', input }, 0);
    // The adapter reads every answer the thread posted before reporting its death.
    expect(core.done(0, batchOf(first), ok(1), 1).find((a) => a.kind === 'resolve')).toEqual({ kind: 'resolve', id: 1, value: 1 });
    const exited = core.exited(0, 'exit code 3', 2);
    expect(exited.filter((a) => a.kind === 'reject').map((a) => a.kind === 'reject' && [a.id, a.error.code])).toEqual([[2, 'E_WORKER_EXITED']]);
    expect(inputs(core.ready(0, 3))).toEqual([['c'], ['d']]);
  });

  it('a batch that could not be posted fails alone, and the next one starts its budget', () => {
    const core = readyCore({ workers: 1, maxQueue: 4, taskBudgetMs: 50 });
    const first = core.submit({ type: 't', input: 0 }, 0);
    core.submit({ type: 't', input: 1 }, 0);
    const error = { code: 'E_TASK_UNCLONEABLE', message: 'Cannot send', definite: true };
    expect(rejects(core.unsent(0, batchOf(first), error, 10))).toEqual(['E_TASK_UNCLONEABLE']);
    expect(core.nextDeadline()).toBe(60);
  });

  /**
   * A model of real threads: each has an inbox, runs one batch at a time, and posts a
   * `done` into an outbox the pool reads later; a thread told to terminate goes on
   * running until it is dead, and its death is reported only after its outbox is
   * read. The steps come in any order. Whatever the order, every accepted task is
   * settled exactly once, none runs twice, and every task answered with a definite
   * error never ran.
   */
  it('settles every accepted task exactly once and runs none twice, over any interleaving of events (property)', () => {
    type Inbox = { batch: number; ids: number[] } | 'stop';
    interface ModelThread { inbox: Inbox[]; current?: { batch: number; ids: number[] }; outbox: { batch: number; ids: number[] }[]; alive: boolean; loaded: boolean; dying: boolean }
    const fresh = (): ModelThread => ({ inbox: [], outbox: [], alive: true, loaded: false, dying: false });
    const step = fc.record({ op: fc.integer({ min: 0, max: 10 }), slot: fc.nat(), arg: fc.nat() });
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 5 }), fc.array(step, { maxLength: 250, size: 'max' }),
      (workers, pipelineDepth, batchSize, maxQueue, steps) => {
        const core = new PoolCore({ workers, maxQueue, taskBudgetMs: 10, batchSize, pipelineDepth });
        const threads = Array.from({ length: workers }, fresh);
        const runs = new Map<number, number>();
        const settled = new Map<number, string[]>();
        const accepted = new Set<number>();
        const uncloneable = new Set<number>();
        let now = 0;
        const apply = (actions: readonly PoolAction[]): void => {
          const unsent: [number, number][] = [];
          for (const a of actions) {
            const thread = 'slot' in a ? (threads[a.slot] as ModelThread) : undefined;
            if (a.kind === 'dispatch') {
              const ids = a.tasks.map((t) => t.id);
              if (ids.some((id) => uncloneable.has(id))) unsent.push([a.slot, a.batch]);
              else thread?.inbox.push({ batch: a.batch, ids });
            } else if (a.kind === 'resolve' || a.kind === 'reject') {
              settled.set(a.id, [...(settled.get(a.id) ?? []), a.kind === 'resolve' ? 'ok' : a.error.code]);
            } else if (a.kind === 'replace') {
              threads[a.slot] = fresh();
            } else if (a.kind === 'terminate') {
              if (thread !== undefined) thread.dying = true;
            } else {
              thread?.inbox.push('stop');
            }
          }
          // The adapter reports a batch it could not post after the round of actions.
          for (const [slot, batch] of unsent) apply(core.unsent(slot, batch, { code: 'E_TASK_UNCLONEABLE', message: 'Cannot send', definite: true }, now));
        };
        const work = (t: ModelThread): boolean => {
          if (!t.alive || !t.loaded) return false;
          if (t.current !== undefined) {
            t.outbox.push(t.current);
            t.current = undefined;
            return true;
          }
          const next = t.inbox.shift();
          if (next === undefined) return false;
          if (next === 'stop') t.alive = false;
          else {
            t.current = next;
            for (const id of next.ids) runs.set(id, (runs.get(id) ?? 0) + 1);
          }
          return true;
        };
        const deliver = (slot: number, all: boolean): boolean => {
          const t = threads[slot] as ModelThread;
          let any = false;
          while (t.outbox.length > 0) {
            const done = t.outbox.shift() as { batch: number; ids: number[] };
            apply(core.done(slot, done.batch, done.ids.map((id) => ({ id, ok: true, value: id, runMs: 1 })), now));
            any = true;
            if (!all) break;
          }
          return any;
        };
        const reportExit = (slot: number): boolean => {
          const t = threads[slot] as ModelThread;
          if (t.alive || t.outbox === undefined || (t as { reported?: boolean }).reported === true) return false;
          deliver(slot, true);
          (t as { reported?: boolean }).reported = true;
          apply(core.exited(slot, 'exit code 1', now));
          return true;
        };
        for (const { op, slot: rawSlot, arg } of steps) {
          const slot = rawSlot % workers;
          const t = threads[slot] as ModelThread;
          switch (op) {
            case 0: case 1: {
              const outcome = core.submit({ type: 't', input: arg }, now);
              if (outcome.ok) {
                accepted.add(outcome.id);
                if (arg % 13 === 0) uncloneable.add(outcome.id);
                apply(outcome.actions);
              }
              break;
            }
            case 2: case 3: work(t); break;
            case 4: deliver(slot, false); break;
            case 5: // the budget timer: read every posted answer, then expire
              now += arg % 25;
              threads.forEach((_, s) => deliver(s, true));
              apply(core.expire(now));
              break;
            case 6: t.alive = false; break; // a crash
            case 7: if (t.dying) t.alive = false; break; // terminate() takes effect
            case 8: reportExit(slot); break;
            case 9: if (t.alive && !t.loaded) { t.loaded = true; apply(core.ready(slot, now)); } break;
            default: if (!core.closing) apply(core.close(now));
          }
        }
        // Let everything finish: no more time passes, so no more budgets run out.
        if (!core.closing) apply(core.close(now));
        for (let round = 0, moved = true; moved && round < 10_000; round += 1) {
          moved = false;
          threads.forEach((t, slot) => {
            if (t.dying && t.alive) { t.alive = false; moved = true; }
            if (t.alive && !t.loaded) { t.loaded = true; apply(core.ready(slot, now)); moved = true; }
            moved = work(t) || deliver(slot, true) || reportExit(slot) || moved;
          });
        }
        // #region pipeline-claims
        for (const id of accepted) expect(settled.get(id)?.length, `task ${id}: ${settled.get(id)?.join(', ')}`).toBe(1);
        for (const [id, count] of runs) expect(count, `task ${id} ran ${count} times`).toBe(1);
        for (const [id, [code]] of settled) {
          if (code === 'ok') expect(runs.get(id)).toBe(1);
          else if (code !== undefined && ['E_POOL_CLOSED', 'E_TASK_EXPIRED', 'E_TASK_UNCLONEABLE'].includes(code)) expect(runs.get(id) ?? 0).toBe(0);
        }
        expect([core.depth, core.running, core.drained]).toEqual([0, 0, true]);
        // #endregion pipeline-claims
      }), { seed: 5_0002, numRuns: 400 });
  });
});
