/**
 * The week 5 gate: one or more tests per criterion of the gate table, each named
 * `[5.k] <claim>`, plus negative controls that show each check can fail. Every test
 * runs real worker threads with the built-in handler module; none asserts a speed.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf } from '../../lib/errors.ts';
import { POOL_ERRORS } from './catalog.ts';
import { runCliProcess } from '../../lib/testing.ts';
import { BUILTIN_HANDLERS } from './node_handlers.ts';
import { WorkerPool, type WorkerPoolOptions } from './node_pool.ts';

const MAIN = fileURLToPath(new URL('./node_main.ts', import.meta.url));
const PIPELINE_HANDLERS = new URL('./testdata/pipeline_handlers.ts', import.meta.url);
const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
});

/** Starts a pool on the built-in handlers and remembers it, so a failing test still stops its threads. */
async function startPool(options: Omit<WorkerPoolOptions, 'handlers'>): Promise<WorkerPool> {
  const pool = await WorkerPool.start({ handlers: BUILTIN_HANDLERS, ...options });
  pools.push(pool);
  return pool;
}

/** How a task ended: `ok`, or its error code. */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => 'ok', (error: { code?: string }) => error.code ?? 'E_INTERNAL');
}

// #region saturation-check
/**
 * Submits `capacity + extra` tasks at once to a pool whose capacity is `capacity`
 * (threads × pipeline depth, plus the queue), and lists what went wrong: a refusal that did not come
 * at once (before any accepted task finished), one with another code, too many or too
 * few refusals.
 */
async function saturationProblems(pool: WorkerPool, capacity: number, extra: number): Promise<string[]> {
  const order: string[] = [];
  const settled = Array.from({ length: capacity + extra }, () => pool.submit('test.spin', 5).then(
    () => { order.push('ok'); return 'ok'; },
    (error: { code?: string; definite?: boolean }) => { order.push(`${error.code}:${error.definite}`); return error.code; }));
  const codes = await Promise.all(settled);
  const problems: string[] = [];
  const refused = codes.filter((code) => code !== 'ok');
  if (refused.length !== extra) problems.push(`${refused.length} tasks refused, expected exactly ${extra}`);
  if (refused.some((code) => code !== 'E_QUEUE_FULL')) problems.push(`a refusal with another code: ${[...new Set(refused)].join(', ')}`);
  const firstOk = order.indexOf('ok');
  if (order.slice(firstOk).some((entry) => entry !== 'ok')) problems.push('a refusal came after an accepted task had finished, not at once');
  if (order.some((entry) => entry.startsWith('E_QUEUE_FULL') && entry !== 'E_QUEUE_FULL:true')) problems.push('E_QUEUE_FULL is not definite');
  return problems;
}
// #endregion saturation-check

// #region drain-check
/**
 * Fills a pool so that tasks are both running and queued, closes it gracefully, and
 * lists what went wrong: an accepted task that did not complete, a thread left
 * running, a task accepted after close.
 */
async function drainProblems(pool: WorkerPool, tasks: number, stop: (pool: WorkerPool) => Promise<void>): Promise<string[]> {
  const settled = Array.from({ length: tasks }, (_, i) => outcome(pool.submit('test.spin', 2 + (i % 5))));
  const problems: string[] = [];
  if (pool.running === 0 || pool.depth === 0) problems.push(`expected tasks in flight and queued at close, got running=${pool.running} depth=${pool.depth}`);
  const closing = stop(pool);
  const late = await outcome(pool.submit('test.spin', 1));
  if (late !== 'E_POOL_CLOSED') problems.push(`a task submitted during shutdown ended ${late}, not E_POOL_CLOSED`);
  await closing;
  const codes = await Promise.all(settled);
  const lost = codes.filter((code) => code !== 'ok');
  if (lost.length > 0) problems.push(`${lost.length} of ${tasks} accepted tasks did not complete: ${[...new Set(lost)].join(', ')}`);
  const stats = pool.stats();
  if (stats.totals.completed !== stats.totals.accepted) problems.push(`stats: ${stats.totals.accepted} accepted, ${stats.totals.completed} completed`);
  if (stats.alive !== 0) problems.push(`${stats.alive} worker threads still alive after shutdown`);
  return problems;
}
// #endregion drain-check

// #region starvation-check
/**
 * Submits one task that never returns, then `short` quick ones, and records the order
 * in which they settle. Lists what went wrong: the long task not cancelled with
 * E_TASK_TIMEOUT, a short task failing, or (with `othersFirst`, when another thread is
 * free) more short tasks finishing after the long one was cancelled than the `behind`
 * already sent to its thread behind it (they wait for the budget, then run on the
 * replacement). `windowMs` caps the wait, for a pool whose budget would never fire.
 */
async function starvationProblems(pool: WorkerPool, short: number, options: { othersFirst: boolean; behind?: number; windowMs: number }): Promise<string[]> {
  const order: string[] = [];
  const long = outcome(pool.submit('test.hang', null)).then((code) => { order.push(`long:${code}`); return code; });
  const quick = Array.from({ length: short }, () => outcome(pool.submit('test.spin', 1)).then((code) => { order.push(`short:${code}`); return code; }));
  const all = Promise.all([long, ...quick]);
  const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => setTimeout(resolve, options.windowMs, true))]);
  const problems: string[] = [];
  if (timedOut) problems.push(`after ${options.windowMs} ms, ${short - order.filter((o) => o.startsWith('short:')).length} of ${short} short tasks had not finished and the long task ${order.some((o) => o.startsWith('long:')) ? 'had' : 'had not'} been cancelled`);
  if (!order.includes('long:E_TASK_TIMEOUT')) problems.push('the long task was not cancelled with E_TASK_TIMEOUT');
  if (order.some((o) => o.startsWith('short:') && o !== 'short:ok')) problems.push('a short task failed');
  const longAt = order.findIndex((o) => o.startsWith('long:'));
  const after = longAt === -1 ? 0 : order.length - 1 - longAt;
  if (options.othersFirst && after > (options.behind ?? 0)) problems.push(`${after} short tasks finished only after the long one was cancelled`);
  return problems;
}
// #endregion starvation-check

describe('week-05 · bounded worker pool', () => {
  // Capacity is threads × pipeline depth (default 2: one task running and one next on
  // each thread, in a burst) plus the queue limit.
  it('[5.1] a full queue refuses the next task at once with definite E_QUEUE_FULL', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 8, taskBudgetMs: 5000 });
    expect(await saturationProblems(pool, 2 * 2 + 8, 25)).toEqual([]);
    expect(pool.stats().byType['test.spin']?.rejected).toEqual({ E_QUEUE_FULL: 25 });
  });

  it('[5.1] negative control: a queue deep enough for every task refuses nothing, and the check says so', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 1000, taskBudgetMs: 5000 });
    expect(await saturationProblems(pool, 2 * 2 + 8, 25)).toEqual(['0 tasks refused, expected exactly 25']);
  });

  it('[5.1] drill: the saturated queue gives the same counts on every run, through the CLI in its own process', async () => {
    const runs = await Promise.all([1, 2].map(() => runCliProcess(['pool', 'drill', '--workers', '2', '--queue', '16', '--extra', '40', '--json'], { entry: MAIN })));
    for (const run of runs) expect(run.code, run.stderr).toBe(EXIT.ok);
    const figures = runs.map((run) => {
      const { accepted, completed, lost, verdict } = JSON.parse(run.stdout) as Record<string, unknown>;
      return { accepted, completed, lost, verdict, refused: (JSON.parse(run.stdout) as Record<string, unknown>)['refused E_QUEUE_FULL'] };
    });
    expect(figures[0]).toEqual({ accepted: 2 * 2 + 16, completed: 2 * 2 + 16, lost: 0, verdict: 'PASS', refused: 40 });
    expect(figures[1]).toEqual(figures[0]);
  });

  it('[5.1] the refusal maps to exit status 7 (unavailable) and HTTP 503 through the catalog', async () => {
    const pool = await startPool({ workers: 1, maxQueue: 0, taskBudgetMs: 5000 });
    const onThread = [pool.submit('test.spin', 20), pool.submit('test.spin', 20)]; // running, and next
    const refused = await pool.submit('test.spin', 1).catch((error: unknown) => error);
    expect(exitCodeOf(refused, POOL_ERRORS)).toBe(EXIT.unavailable);
    expect(POOL_ERRORS.E_QUEUE_FULL.http).toBe(503);
    await Promise.all(onThread);
  });

  it('[5.2] every task accepted before a graceful close completes, with tasks both running and queued', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 64, taskBudgetMs: 5000 });
    expect(await drainProblems(pool, 60, (p) => p.close())).toEqual([]);
  });

  it('[5.2] with batches of 8 per message, a graceful close still loses nothing', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 64, taskBudgetMs: 5000, batchSize: 8 });
    expect(await drainProblems(pool, 60, (p) => p.close())).toEqual([]);
  });

  it('[5.2] negative control: a hard stop instead of a graceful close loses accepted tasks, and the check says so', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 64, taskBudgetMs: 5000 });
    const problems = await drainProblems(pool, 60, (p) => p.terminate());
    expect(problems.join('\n')).toMatch(/accepted tasks did not complete: (E_TASK_ABORTED, E_POOL_CLOSED|E_POOL_CLOSED, E_TASK_ABORTED)/);
  });

  it('[5.3] a task that overruns its budget is cancelled with E_TASK_TIMEOUT while the other thread keeps serving', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 64, taskBudgetMs: 1500 });
    // Pipeline depth 2: the one short task sent to the hung thread behind it waits for the budget.
    expect(await starvationProblems(pool, 40, { othersFirst: true, behind: 1, windowMs: 20_000 })).toEqual([]);
    expect(pool.stats().replacedWorkers).toBe(1);
    expect(await outcome(pool.submit('sha256', new Uint8Array(1024)))).toBe('ok');
  });

  it('[5.3] without pipelining, no short task at all waits for the overrunning one', async () => {
    const pool = await startPool({ workers: 2, maxQueue: 64, taskBudgetMs: 1000, pipelineDepth: 1 });
    expect(await starvationProblems(pool, 40, { othersFirst: true, behind: 0, windowMs: 20_000 })).toEqual([]);
  });

  it('[5.3] with one thread, tasks queued behind the overrunning task run on its replacement', async () => {
    const pool = await startPool({ workers: 1, maxQueue: 64, taskBudgetMs: 300 });
    expect(await starvationProblems(pool, 10, { othersFirst: false, windowMs: 20_000 })).toEqual([]);
  });

  // #region requeue-check
  it('[5.3] tasks sent to a thread behind an overrunning one go back to the front of the queue and each runs exactly once', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 8, taskBudgetMs: 300, pipelineDepth: 3, handlers: PIPELINE_HANDLERS });
    pools.push(pool);
    const runs = new Int32Array(new SharedArrayBuffer(4 * 4)); // per task: how many times it ran, on any thread
    const order: string[] = [];
    // Task 0 hangs; tasks 1 and 2 wait behind it in the thread's inbox; task 3 waits in the queue.
    await Promise.all(['hang', 'record', 'record', 'record'].map((type, index) =>
      outcome(pool.submit(type, { runs, index })).then((code) => { order.push(`${index}:${code}`); })));
    expect(order).toEqual(['0:E_TASK_TIMEOUT', '1:ok', '2:ok', '3:ok']);
    expect(Array.from(runs)).toEqual([1, 1, 1, 1]);
  });
  // #endregion requeue-check

  it('[5.3] the timeout is indefinite: the caller is told the task may have run', async () => {
    const pool = await startPool({ workers: 1, maxQueue: 4, taskBudgetMs: 100 });
    await expect(pool.submit('test.hang', null)).rejects.toMatchObject({ code: 'E_TASK_TIMEOUT', definite: false });
  });

  it('[5.3] negative control: without a working budget the short tasks behind a hung thread starve, and the check says so', async () => {
    const pool = await startPool({ workers: 1, maxQueue: 64, taskBudgetMs: 3_600_000 });
    const problems = await starvationProblems(pool, 10, { othersFirst: false, windowMs: 1500 });
    expect(problems).toContain('after 1500 ms, 10 of 10 short tasks had not finished and the long task had not been cancelled');
  });
});
