/**
 * The `pool` benchmark suite (week 5): CPU work on the event loop alone beside the
 * same work on a pool of 1, 2 and 4 worker threads; the 1 → 2 thread scaling ratio
 * (target ≥ 1.7 on this 2-core machine); one task per `postMessage` beside 64 per
 * message; and pipelining: one thread holding two batches (the next waits in its
 * inbox) beside one batch at a time, with one task per message, where the round
 * trip between batches costs the most. Pools not marked otherwise use the default
 * pipeline depth (2). Beside the scaling figures, two bare threads signing in a loop
 * against one show what the machine itself allows (2.0 on two idle cores).
 *
 * Two kinds of work bracket what CivicTrust hands to threads: SHA-256 of 1 KiB (about
 * 3 µs of CPU, so per-message overhead dominates) and an Ed25519 signature over
 * 256 bytes (tens of µs, so the CPU work dominates). Throughput figures submit every
 * task at once into a queue deep enough to hold them; latency (p95) figures keep a
 * fixed number of tasks in flight and time each from submit to settle. Pools are
 * started once per configuration and reused across trials (start-up, about 0.4 s
 * per thread for the TypeScript loader, is not what is measured).
 * @module
 */
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BUILTIN_HANDLERS, WorkerPool } from '../../../lib/pool.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';

const KIB = new Uint8Array(1024).map((_, i) => (i * 31) % 251);
const MESSAGE = KIB.slice(0, 256);
const SEED = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

const pools = new Map<string, Promise<WorkerPool>>();

/** A shared pool per (workers, batch, pipeline depth) configuration; depth undefined = the pool's default. */
function poolOf(workers: number, batchSize: number, pipelineDepth?: number): Promise<WorkerPool> {
  const key = `${workers}x${batchSize}x${pipelineDepth ?? 'default'}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = WorkerPool.start({ workers, batchSize, pipelineDepth, maxQueue: 1 << 20, taskBudgetMs: 60_000, handlers: BUILTIN_HANDLERS });
    pools.set(key, pool);
  }
  return pool;
}

/** One kind of work, as a task type and its input, and the same work on the event loop. */
interface Work {
  readonly type: string;
  readonly input: unknown;
  readonly inline: () => unknown;
}

const SHA256: Work = { type: 'sha256', input: KIB, inline: () => createHash('sha256').update(KIB).digest() };
const SIGN_KEY = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, SEED]), format: 'der', type: 'pkcs8' });
const ED25519_SIGN: Work = { type: 'ed25519.sign', input: { seed: SEED, message: MESSAGE }, inline: () => sign(null, MESSAGE, SIGN_KEY) };

/** Throughput on a pool: every task submitted at once, then awaited. */
function poolThroughput(ctx: SuiteContext, work: Work, ops: number, workers: number, batchSize = 1, pipelineDepth?: number): Workload {
  return {
    label: `pool ${workers} thread${workers === 1 ? '' : 's'}${batchSize === 1 ? '' : `, ${batchSize}/msg`}${pipelineDepth === undefined ? '' : `, depth ${pipelineDepth}`}`,
    async prepare(): Promise<Trial> {
      const pool = await poolOf(workers, batchSize, pipelineDepth);
      let done = 0;
      return {
        async run() {
          const all: Promise<unknown>[] = [];
          for (let i = 0; i < ops; i += 1) all.push(pool.submit(work.type, work.input));
          done = (await Promise.all(all)).length;
        },
        finish() { ctx.check(done === ops, `${work.type}: ${ops} tasks complete on the pool`); },
      };
    },
  };
}

/** Throughput on the event loop alone. */
function inlineThroughput(work: Work, ops: number): Workload {
  return {
    label: 'event loop only',
    prepare: () => ({ run() { for (let i = 0; i < ops; i += 1) work.inline(); } }),
  };
}

/** Per-task latency with `inFlight` tasks outstanding: a closed loop. */
function poolLatency(work: Work, ops: number, workers: number, inFlight: number): Workload {
  return {
    label: `pool ${workers} threads, ${inFlight} in flight`,
    async prepare(): Promise<Trial> {
      const pool = await poolOf(workers, 1);
      const latencies: number[] = [];
      return {
        async run() {
          let next = 0;
          const lane = async (): Promise<void> => {
            while (next < ops) {
              next += 1;
              const t0 = performance.now();
              await pool.submit(work.type, work.input);
              latencies.push((performance.now() - t0) / 1000);
            }
          };
          await Promise.all(Array.from({ length: inFlight }, lane));
        },
        latencies: () => latencies,
      };
    },
  };
}

/** Per-task latency on the event loop: requests arrive together, so each waits for those before it. */
function inlineLatency(work: Work, ops: number, inFlight: number): Workload {
  return {
    label: `event loop only, ${inFlight} in flight`,
    prepare(): Trial {
      const latencies: number[] = [];
      return {
        run() {
          // `inFlight` requests arrive at once; the loop serves them one after another.
          for (let start = 0; start < ops; start += inFlight) {
            const t0 = performance.now();
            for (let i = start; i < Math.min(ops, start + inFlight); i += 1) {
              work.inline();
              latencies.push((performance.now() - t0) / 1000);
            }
          }
        },
        latencies: () => latencies,
      };
    },
  };
}

/**
 * The script of a bare thread: sign `count` times in a tight loop once told to go, then
 * report. No pool, no messages per task: what two cores can do at most.
 */
const BARE_SIGNER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: Buffer.from(workerData.der), format: 'der', type: 'pkcs8' });
const message = Buffer.from(workerData.message);
parentPort.once('message', (count) => {
  for (let i = 0; i < count; i++) sign(null, message, key);
  parentPort.postMessage(count);
});
parentPort.postMessage('ready');
`;

/** `threads` bare threads signing `ops` times between them: the machine's ceiling for the scaling figures. */
function bareThreads(ops: number, threads: number): Workload {
  return {
    label: `${threads} bare thread${threads === 1 ? '' : 's'}`,
    async prepare(): Promise<Trial> {
      const der = Buffer.concat([PKCS8_PREFIX, SEED]);
      const workers = await Promise.all(Array.from({ length: threads }, () => new Promise<Worker>((resolve, reject) => {
        const worker = new Worker(BARE_SIGNER, { eval: true, workerData: { der, message: MESSAGE } });
        worker.once('message', () => resolve(worker));
        worker.once('error', reject);
      })));
      const share = (i: number) => Math.floor(ops / threads) + (i < ops % threads ? 1 : 0);
      return {
        async run() {
          await Promise.all(workers.map((worker, i) => new Promise((resolve) => {
            worker.once('message', resolve);
            worker.postMessage(share(i));
          })));
        },
        async finish() {
          await Promise.all(workers.map((worker) => worker.terminate()));
        },
      };
    },
  };
}

/** The week 5 pool suite. */
export const POOL_SUITE: Suite = {
  name: 'pool',
  title: 'worker pool: event loop vs 1/2/4 threads, scaling, batching, pipelining',
  figures(ctx): readonly Figure[] {
    const sha = ctx.short ? 2000 : 100_000;
    const sig = ctx.short ? 400 : 20_000;
    const lat = ctx.short ? 200 : 10_000;
    return [
      { name: 'SHA-256 1 KiB, 2 threads: 64 tasks per message vs 1', metric: 'throughput', unit: 'task', ops: sha, bytesPerOp: 1024,
        subject: poolThroughput(ctx, SHA256, sha, 2, 64), peer: poolThroughput(ctx, SHA256, sha, 2, 1), relation: 'peer' },
      { name: 'SHA-256 1 KiB: pool 2 threads (64/msg) vs event loop', metric: 'throughput', unit: 'task', ops: sha, bytesPerOp: 1024,
        subject: poolThroughput(ctx, SHA256, sha, 2, 64), peer: inlineThroughput(SHA256, sha), relation: 'peer' },
      { name: 'SHA-256 1 KiB (64/msg): 2 threads vs 1', metric: 'throughput', unit: 'task', ops: sha, bytesPerOp: 1024,
        subject: poolThroughput(ctx, SHA256, sha, 2, 64), peer: poolThroughput(ctx, SHA256, sha, 1, 64), relation: 'peer' },
      { name: 'Ed25519 sign, 1 thread, 1/msg: pipeline depth 2 vs 1', metric: 'throughput', unit: 'sig', ops: sig,
        subject: poolThroughput(ctx, ED25519_SIGN, sig, 1, 1, 2), peer: poolThroughput(ctx, ED25519_SIGN, sig, 1, 1, 1), relation: 'peer' },
      { name: 'SHA-256 1 KiB, 1 thread, 1/msg: pipeline depth 2 vs 1', metric: 'throughput', unit: 'task', ops: sha, bytesPerOp: 1024,
        subject: poolThroughput(ctx, SHA256, sha, 1, 1, 2), peer: poolThroughput(ctx, SHA256, sha, 1, 1, 1), relation: 'peer' },
      { name: 'Ed25519 sign: pool 1 thread vs event loop', metric: 'throughput', unit: 'sig', ops: sig,
        subject: poolThroughput(ctx, ED25519_SIGN, sig, 1), peer: inlineThroughput(ED25519_SIGN, sig), relation: 'peer' },
      { name: 'Ed25519 sign: 2 threads vs 1 (scaling)', metric: 'throughput', unit: 'sig', ops: sig,
        subject: poolThroughput(ctx, ED25519_SIGN, sig, 2), peer: poolThroughput(ctx, ED25519_SIGN, sig, 1), relation: 'peer', target: { atLeast: 1.7 } },
      { name: 'Ed25519 sign: 2 threads, 16/msg vs 1 (scaling)', metric: 'throughput', unit: 'sig', ops: sig,
        subject: poolThroughput(ctx, ED25519_SIGN, sig, 2, 16), peer: poolThroughput(ctx, ED25519_SIGN, sig, 1, 16), relation: 'peer', target: { atLeast: 1.7 } },
      { name: 'Ed25519 sign: 2 bare threads vs 1 (the machine\'s ceiling for scaling)', metric: 'throughput', unit: 'sig', ops: sig,
        subject: bareThreads(sig, 2), peer: bareThreads(sig, 1), relation: 'limit' },
      { name: 'Ed25519 sign: 4 threads vs 2 (2 cores)', metric: 'throughput', unit: 'sig', ops: sig,
        subject: poolThroughput(ctx, ED25519_SIGN, sig, 4), peer: poolThroughput(ctx, ED25519_SIGN, sig, 2), relation: 'peer' },
      { name: 'Ed25519 sign p95, 8 in flight: pool 2 threads vs event loop', metric: 'p95', unit: 'sig', ops: lat,
        subject: poolLatency(ED25519_SIGN, lat, 2, 8), peer: inlineLatency(ED25519_SIGN, lat, 8), relation: 'peer' },
      { name: 'SHA-256 1 KiB p95, 8 in flight: pool 2 threads vs event loop', metric: 'p95', unit: 'task', ops: lat,
        subject: poolLatency(SHA256, lat, 2, 8), peer: inlineLatency(SHA256, lat, 8), relation: 'peer' },
    ];
  },
  async teardown() {
    const started = [...pools.values()];
    pools.clear();
    await Promise.all(started.map(async (pool) => (await pool).close()));
  },
};
