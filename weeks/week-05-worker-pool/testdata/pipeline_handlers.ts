/**
 * Handlers that count their own executions in shared memory, for the pipelining
 * tests: each input carries an `Int32Array` over a `SharedArrayBuffer` (postMessage
 * shares that memory instead of copying it) and the index of its own counter, so the
 * test reads how many times each task really ran, on whatever thread.
 * @module
 */

/** What every handler here gets: the shared counters and this task's index in them. */
export interface Counted {
  /** One counter per task, over shared memory. */
  readonly runs: Int32Array;
  /** This task's counter. */
  readonly index: number;
  /** Only for `overlap`: the shared slot counting the batches running at once, and the most seen. */
  readonly active?: Int32Array;
}

/** Busy-waits `ms` of CPU. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Test handlers, each counting its run first. */
export const handlers = {
  /** Counts a run, then returns its index. */
  record: (input: Counted): number => {
    Atomics.add(input.runs, input.index, 1);
    return input.index;
  },
  /** Counts a run, then never returns. */
  hang: (input: Counted): never => {
    Atomics.add(input.runs, input.index, 1);
    for (;;) spin(1000);
  },
  /** Counts a run, then kills its thread. */
  crash: (input: Counted): never => {
    Atomics.add(input.runs, input.index, 1);
    process.exit(3);
  },
  /** Counts a run, then awaits a timer while noting how many tasks are in flight at once (`active[1]` keeps the most). */
  overlap: async (input: Counted): Promise<number> => {
    Atomics.add(input.runs, input.index, 1);
    const active = input.active as Int32Array;
    const now = Atomics.add(active, 0, 1) + 1;
    if (now > Atomics.load(active, 1)) Atomics.store(active, 1, now);
    await new Promise((resolve) => setTimeout(resolve, 20));
    Atomics.sub(active, 0, 1);
    return input.index;
  },
};
