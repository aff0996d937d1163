/**
 * The pool's behaviour beyond the gate, on real threads: errors crossing the thread
 * boundary, handler modules in TypeScript, start-up failures, crashes, and the
 * Prometheus exposition.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CivicError } from '../../lib/errors.ts';
import { BUILTIN_HANDLERS } from './node_handlers.ts';
import { WorkerPool } from './node_pool.ts';
import { registerPoolMetrics } from './node_pool_metrics.ts';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
});
async function startPool(handlers: URL = BUILTIN_HANDLERS): Promise<WorkerPool> {
  const pool = await WorkerPool.start({ workers: 1, maxQueue: 16, taskBudgetMs: 2000, handlers });
  pools.push(pool);
  return pool;
}

// #region clone-loses-code
/** Sends a value through a real MessageChannel (structured clone) and returns what arrives. */
function throughChannel(value: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (arrived) => { port1.close(); resolve(arrived); });
    port1.postMessage(value);
  });
}
// #endregion clone-loses-code

describe('errors across the thread boundary', () => {
  it('a CivicError sent through postMessage arrives as a plain Error without its code', async () => {
    const arrived = (await throughChannel(new CivicError('E_QUEUE_FULL', 'Cannot accept task', { definite: true }))) as Error & { code?: string };
    expect(arrived).toBeInstanceOf(Error);
    expect(arrived).not.toBeInstanceOf(CivicError);
    expect(arrived.code).toBeUndefined();
    expect(arrived.message).toBe('Cannot accept task');
  });

  it('a coded error thrown in a worker arrives as a CivicError with its code and definite flag', async () => {
    const pool = await startPool();
    const error = await pool.submit('test.fail', { code: 'E_SIG_INVALID', message: 'Cannot verify: bad signature', definite: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CivicError);
    expect(error).toMatchObject({ code: 'E_SIG_INVALID', definite: true, message: 'Cannot verify: bad signature' });
  });

  it('an uncoded throw arrives as indefinite E_TASK_FAILED', async () => {
    const pool = await startPool();
    await expect(pool.submit('test.throw', 'boom')).rejects.toMatchObject({ code: 'E_TASK_FAILED', definite: false });
  });
});

describe('handler modules', () => {
  it('loads a TypeScript handler module that imports a lib barrel, and its CivicError keeps its code', async () => {
    const pool = await startPool(new URL('./testdata/custom_handlers.ts', import.meta.url));
    expect(await pool.submit('inc', 41)).toBe(42);
    await expect(pool.submit('refuse', null)).rejects.toMatchObject({ code: 'E_TASK_BAD_INPUT', definite: true });
  });

  it('refuses to start with E_WORKER_LOAD when the module exports no handlers', async () => {
    await expect(WorkerPool.start({ workers: 2, maxQueue: 1, taskBudgetMs: 100, handlers: new URL('./testdata/broken_handlers.mjs', import.meta.url) }))
      .rejects.toMatchObject({ code: 'E_WORKER_LOAD', definite: true });
  });

  it('refuses an unknown task type and an uncloneable input at once, both definite', async () => {
    const pool = await startPool();
    await expect(pool.submit('nope', 1)).rejects.toMatchObject({ code: 'E_TASK_UNKNOWN', definite: true });
    await expect(pool.submit('test.echo', () => 1)).rejects.toMatchObject({ code: 'E_TASK_UNCLONEABLE', definite: true });
    expect(await pool.submit('test.echo', 'still serving')).toBe('still serving');
  });

  it('fails a task whose thread dies with E_WORKER_EXITED and serves the next on a fresh thread', async () => {
    const pool = await startPool();
    await expect(pool.submit('test.crash', null)).rejects.toMatchObject({ code: 'E_WORKER_EXITED', definite: false });
    const digest = await pool.submit<Uint8Array, Uint8Array>('sha256', new TextEncoder().encode('abc'));
    expect(Array.from(digest.slice(0, 4))).toEqual([0xba, 0x78, 0x16, 0xbf]);
  });

  it('signs and verifies Ed25519 in a worker (RFC 8032 test 1)', async () => {
    const pool = await startPool();
    const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const publicKey = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const signature = await pool.submit<unknown, Uint8Array>('ed25519.sign', { seed, message: new Uint8Array(0) });
    expect(Array.from(signature.slice(0, 4))).toEqual([0xe5, 0x56, 0x43, 0x00]);
    expect(await pool.submit('ed25519.verify', { publicKey, message: new Uint8Array(0), signature })).toBe(true);
    expect(await pool.submit('ed25519.verify', { publicKey, message: new Uint8Array(1), signature })).toBe(false);
  });
});

describe('metrics', () => {
  it('exposes queue wait p95 per type, rejections and timeouts in the Prometheus text format', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 2, taskBudgetMs: 100, handlers: BUILTIN_HANDLERS });
    pools.push(pool);
    // The hang runs, one sha256 waits behind it on the thread (and runs on the replacement), two queue, one is refused.
    const sha = () => pool.submit('sha256', new Uint8Array(8));
    const outcomes = await Promise.allSettled([pool.submit('test.hang', null), sha(), sha(), sha(), sha()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const text = await registerPoolMetrics(pool).metrics();
    expect(text).toMatch(/^civictrust_pool_queue_wait_seconds\{type="sha256",quantile="0\.95"\} \d/m);
    expect(text).toContain('civictrust_pool_rejections_total{type="sha256",code="E_QUEUE_FULL"} 1');
    expect(text).toContain('civictrust_pool_tasks_total{type="test.hang",outcome="timed_out"} 1');
    expect(text).toContain('civictrust_pool_workers_replaced_total 1');
  });
});

describe('pipelining on real threads', () => {
  const PIPELINE = new URL('./testdata/pipeline_handlers.ts', import.meta.url);
  /** Shared counters: how many times each task ran, on whatever thread. */
  const counters = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
  /** Blocks this thread for `ms`: the event loop reads no port and fires no timer meanwhile. */
  const block = (ms: number, until: () => boolean = () => false) => {
    const end = performance.now() + ms;
    while (performance.now() < end && !until());
  };

  it('runs a thread\'s batches one after another, even when the handlers are async', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 8, taskBudgetMs: 5000, pipelineDepth: 4, handlers: PIPELINE });
    pools.push(pool);
    const runs = counters(4);
    const active = new Int32Array(new SharedArrayBuffer(8));
    await Promise.all([0, 1, 2, 3].map((index) => pool.submit('overlap', { runs, index, active })));
    expect(Array.from(runs)).toEqual([1, 1, 1, 1]);
    expect(Atomics.load(active, 1)).toBe(1); // never two tasks in flight on the thread
  });

  it('a result that arrived while the loop was blocked past the budget is read, not taken for an overrun', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 8, taskBudgetMs: 50, handlers: PIPELINE });
    pools.push(pool);
    const runs = counters(1);
    const settled = pool.submit('record', { runs, index: 0 });
    // The thread answers within a millisecond or so; the loop sees the answer only after
    // this, and its timers run before it reads ports, so the budget timer fires first.
    block(300);
    expect(await settled).toBe(0);
    expect(pool.stats().replacedWorkers).toBe(0);
  });

  it('a crash right after a batch the pool has not read yet: that batch keeps its result, the crashing one fails, those behind it run once on the replacement', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 8, taskBudgetMs: 5000, pipelineDepth: 4, handlers: PIPELINE });
    pools.push(pool);
    const runs = counters(4);
    const settled = ['record', 'crash', 'record', 'record'].map((type, index) => outcomeOf(pool.submit(type, { runs, index })));
    // Keep the loop from reading anything until the thread has answered task 0 and died in task 1.
    block(5000, () => Atomics.load(runs, 1) === 1);
    block(200);
    expect(await Promise.all(settled)).toEqual(['ok', 'E_WORKER_EXITED', 'ok', 'ok']);
    expect(Array.from(runs)).toEqual([1, 1, 1, 1]);
    expect(pool.stats().replacedWorkers).toBe(1);
  });
});

/** How a task ended: `ok`, or its error code. */
function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => 'ok', (error: { code?: string }) => error.code ?? 'E_INTERNAL');
}
