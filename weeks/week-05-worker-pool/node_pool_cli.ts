/**
 * The `pool` command group: run a batch of tasks through a real worker pool and watch
 * what it does (`pool run`), and drive its queue to saturation on purpose
 * (`pool drill`, the week's failure drill). Data on stdout (`--json` for machines,
 * `--prom` for the Prometheus text), errors on stderr as `error[CODE]: message`.
 * @module
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { EXIT, type ExitCode } from '../../lib/errors.ts';
import { choiceFlag, intFlag, stringFlag, type CliIo, type CommandArgs, type CommandGroup, type CommandSpec, type FlagSpec } from '../../lib/cli.ts';
import { WorkerPool, type WorkerPoolOptions } from './node_pool.ts';
import { BUILTIN_HANDLERS } from './node_handlers.ts';
import { registerPoolMetrics } from './node_pool_metrics.ts';
import type { PoolStats } from './pool_stats.ts';

/** The task types `pool run` can generate inputs for. */
const RUN_TYPES = ['sha256', 'ed25519.sign', 'ed25519.verify', 'test.spin', 'test.echo'] as const;
type RunType = (typeof RUN_TYPES)[number];

const POOL_FLAGS: readonly FlagSpec[] = [
  { name: 'workers', type: 'string', value: 'N', help: 'worker threads (default 2)' },
  { name: 'queue', type: 'string', value: 'N', help: 'queue depth limit: tasks that may wait (default 64)' },
  { name: 'budget-ms', type: 'string', value: 'MS', help: 'execution budget of one task (default 1000)' },
  { name: 'batch', type: 'string', value: 'N', help: 'tasks per postMessage, at most (default 1)' },
  { name: 'depth', type: 'string', value: 'N', help: 'batches a thread holds at once: one running, the rest next in its inbox (default 2; 1 = no pipelining)' },
  { name: 'handlers', type: 'string', value: 'PATH', help: 'a handler module (.ts or .mjs) instead of the built-in one' },
  { name: 'json', type: 'boolean', help: 'print one JSON object (the stats and the run figures)' },
  { name: 'prom', type: 'boolean', help: 'print the metrics in the Prometheus text format' },
];

/** The pool options every command reads from its flags. */
function poolOptions(args: CommandArgs): WorkerPoolOptions & { batchSize: number; pipelineDepth: number } {
  const path = stringFlag(args, 'handlers');
  return {
    workers: intFlag(args, 'workers', { min: 1, max: 64, fallback: 2 }),
    maxQueue: intFlag(args, 'queue', { min: 0, max: 1_000_000, fallback: 64 }),
    taskBudgetMs: intFlag(args, 'budget-ms', { min: 1, max: 3_600_000, fallback: 1000 }),
    batchSize: intFlag(args, 'batch', { min: 1, max: 4096, fallback: 1 }),
    pipelineDepth: intFlag(args, 'depth', { min: 1, max: 64, fallback: 2 }),
    handlers: path === undefined ? BUILTIN_HANDLERS : pathToFileURL(path),
    // Sub-millisecond queue waits need a clock finer than Date.now().
    clock: { now: () => performance.now() },
  };
}

/** A fixed Ed25519 seed for generated sign/verify tasks (a demo key, never a real one). */
const DEMO_SEED = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/** Builds the input of `count` tasks of one type; bytes are a fixed pattern. */
function makeInput(type: RunType, size: number, spinMs: number): unknown {
  const bytes = Uint8Array.from({ length: size }, (_, i) => i % 251);
  switch (type) {
    case 'sha256': return bytes;
    case 'ed25519.sign': return { seed: DEMO_SEED, message: bytes };
    case 'ed25519.verify': {
      const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), DEMO_SEED]);
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      // The SPKI encoding of an Ed25519 key is a 12-byte prefix and the raw 32 bytes.
      const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12));
      return { publicKey, message: bytes, signature: new Uint8Array(sign(null, bytes, key)) };
    }
    case 'test.spin': return spinMs;
    case 'test.echo': return bytes;
  }
}

/** Prints a snapshot as text, JSON or Prometheus text. */
async function report(args: CommandArgs, io: CliIo, stats: PoolStats, run: Record<string, number | string>): Promise<void> {
  if (args.flags.prom === true) {
    io.stdout(await registerPoolMetrics({ stats: () => stats }).metrics());
    return;
  }
  if (args.flags.json === true) {
    io.stdout(`${JSON.stringify({ ...run, stats })}\n`);
    return;
  }
  const ms = (value: number | null): string => (value === null ? '-' : value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(1)} ms`);
  const lines = Object.entries(run).map(([key, value]) => `${key.padEnd(18)} ${value}`);
  lines.push(`${'workers replaced'.padEnd(18)} ${stats.replacedWorkers}`, `${'batches sent'.padEnd(18)} ${stats.batches}`, `${'deepest queue'.padEnd(18)} ${stats.maxDepthSeen} of ${stats.maxQueue}`, '');
  lines.push('type            accepted  done  failed  timeout  refused  wait p50   wait p95   run p50    run p95');
  for (const [type, t] of Object.entries(stats.byType)) {
    const failed = Object.values(t.failed).reduce((a, b) => a + b, 0);
    const refused = Object.values(t.rejected).reduce((a, b) => a + b, 0);
    lines.push(`${type.padEnd(15)} ${String(t.accepted).padStart(8)} ${String(t.completed).padStart(5)} ${String(failed).padStart(7)} ${String(t.timedOut).padStart(8)} ${String(refused).padStart(8)}  ${ms(t.queueWaitMs.p50).padEnd(10)} ${ms(t.queueWaitMs.p95).padEnd(10)} ${ms(t.runMs.p50).padEnd(10)} ${ms(t.runMs.p95)}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
}

// #region pool-run
/**
 * `pool run`: submits `--tasks` tasks and waits for all of them. By default it keeps
 * at most workers × depth + queue tasks in flight (a well-behaved producer: nothing is
 * refused); `--burst` submits them all at once, so everything past the queue limit is
 * refused with E_QUEUE_FULL. `--hang N` first submits N tasks that never return, to
 * watch the budget stop their threads while the others keep serving.
 */
async function runPool(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const options = poolOptions(args);
  const type = choiceFlag(args, 'type', RUN_TYPES) ?? 'sha256';
  const tasks = intFlag(args, 'tasks', { min: 1, max: 10_000_000, fallback: 1000 });
  const hang = intFlag(args, 'hang', { min: 0, max: 64, fallback: 0 });
  const input = makeInput(type, intFlag(args, 'size', { min: 0, max: 16 << 20, fallback: 1024 }), intFlag(args, 'spin-ms', { min: 0, max: 60_000, fallback: 5 }));
  const pool = await WorkerPool.start(options);
  const started = performance.now();
  const outcomes = new Map<string, number>();
  const count = (key: string): void => { outcomes.set(key, (outcomes.get(key) ?? 0) + 1); };
  const track = (promise: Promise<unknown>): Promise<void> =>
    promise.then(() => count('ok'), (error: { code?: string }) => count(error.code ?? 'E_INTERNAL'));
  const hung = Array.from({ length: hang }, () => track(pool.submit('test.hang', null)));
  const inFlight = new Set<Promise<void>>();
  const window = args.flags.burst === true ? Number.POSITIVE_INFINITY : options.workers * options.pipelineDepth + options.maxQueue;
  for (let i = 0; i < tasks; i += 1) {
    while (inFlight.size >= window) await Promise.race(inFlight);
    const done = track(pool.submit(type, input)).finally(() => inFlight.delete(done));
    inFlight.add(done);
  }
  await Promise.all([...inFlight, ...hung]);
  const elapsedMs = performance.now() - started;
  await pool.close();
  const ok = outcomes.get('ok') ?? 0;
  await report(args, io, pool.stats(), {
    type, tasks: tasks + hang, 'elapsed ms': Math.round(elapsedMs), 'tasks per second': Math.round((ok / elapsedMs) * 1000),
    ...Object.fromEntries([...outcomes].sort()),
  });
  return EXIT.ok;
}
// #endregion pool-run

// #region pool-drill
/**
 * `pool drill`: the week's failure drill. Submits more tasks at once than the pool can
 * hold, then closes it gracefully while they run. Passes (exit 0) when exactly the
 * overflow is refused, every refusal is E_QUEUE_FULL, and every accepted task
 * completes; otherwise exits 1. In a burst each thread takes `depth` batches of one
 * task (a batch leaves as soon as a thread has room, so the queue holds one task
 * then), and the queue takes `queue` more: capacity is workers × depth + queue,
 * whatever `--batch` says.
 */
async function runDrill(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const options = poolOptions(args);
  const extra = intFlag(args, 'extra', { min: 1, max: 100_000, fallback: 100 });
  const spinMs = intFlag(args, 'spin-ms', { min: 0, max: 60_000, fallback: 2 });
  const pool = await WorkerPool.start(options);
  const capacity = options.workers * options.pipelineDepth + options.maxQueue;
  const settled = Array.from({ length: capacity + extra }, () => pool.submit('test.spin', spinMs)
    .then(() => 'ok', (error: { code?: string }) => error.code ?? 'E_INTERNAL'));
  const depthAtClose = pool.depth;
  await pool.close();
  const codes = await Promise.all(settled);
  const completed = codes.filter((code) => code === 'ok').length;
  const refused = codes.filter((code) => code === 'E_QUEUE_FULL').length;
  const stats = pool.stats();
  const lost = stats.totals.accepted - completed;
  const pass = refused === extra && completed === capacity && lost === 0 && codes.length === completed + refused;
  await report(args, io, stats, { submitted: codes.length, capacity, accepted: stats.totals.accepted, completed, 'refused E_QUEUE_FULL': refused, 'queued at close': depthAtClose, lost, verdict: pass ? 'PASS' : 'FAIL' });
  return pass ? EXIT.ok : EXIT.negative;
}
// #endregion pool-drill

const RUN: CommandSpec = {
  verb: 'run',
  summary: 'Run tasks through a worker pool and print its stats',
  operands: '',
  arity: { min: 0, max: 0 },
  flags: [
    { name: 'type', type: 'string', value: 'TYPE', help: `task type: ${RUN_TYPES.join(', ')} (default sha256)` },
    { name: 'tasks', type: 'string', value: 'N', help: 'tasks to run (default 1000)' },
    { name: 'size', type: 'string', value: 'BYTES', help: 'input size for sha256, ed25519.* and test.echo (default 1024)' },
    { name: 'spin-ms', type: 'string', value: 'MS', help: 'CPU time of one test.spin task (default 5)' },
    { name: 'hang', type: 'string', value: 'N', help: 'also submit N tasks that never return, to watch the budget (default 0)' },
    { name: 'burst', type: 'boolean', help: 'submit every task at once (refusals expected) instead of keeping the queue full' },
    ...POOL_FLAGS,
  ],
  details: 'Examples:\n  civictrust pool run --type sha256 --tasks 20000 --workers 2 --batch 64\n  civictrust pool run --type ed25519.sign --tasks 20000 --workers 1 --depth 1\n  civictrust pool run --type test.spin --tasks 40 --hang 1 --budget-ms 200\n  civictrust pool run --tasks 500 --burst --queue 16 --json',
  run: runPool,
};

const DRILL: CommandSpec = {
  verb: 'drill',
  summary: 'Drive the queue to saturation, close gracefully, and check nothing accepted was lost',
  operands: '',
  arity: { min: 0, max: 0 },
  flags: [
    { name: 'extra', type: 'string', value: 'N', help: 'tasks beyond capacity, all of which must be refused (default 100)' },
    { name: 'spin-ms', type: 'string', value: 'MS', help: 'CPU time of each task (default 2)' },
    ...POOL_FLAGS,
  ],
  details: 'Exit status 0 when the drill passes, 1 when a refusal or a loss is not what it must be.',
  run: runDrill,
};

/** The `pool` command group: run, drill. */
export const POOL_COMMANDS: CommandGroup = {
  noun: 'pool',
  summary: 'Run CPU tasks on a bounded pool of worker threads and show its metrics',
  commands: [RUN, DRILL],
};
