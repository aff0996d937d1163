/**
 * The overload server in process, on real sockets and real worker threads, for the two
 * per-request defences that sit beside the gate's criteria: one greedy client is held to
 * its own request rate while the polite clients around it are still answered, and a
 * budget split over the stages drops a request that waited out its queue share.
 * No speed is asserted: every wait is generous, and counts come from the answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { counterIds } from '../../lib/clock.ts';
import { createLogger, memorySink, preciseClock } from '../../lib/framing.ts';
import { WorkerPool } from '../../lib/pool.ts';
import type { StageSplit } from './deadline.ts';
import { TaskClient } from './node_load.ts';
import { OverloadServer, type ClientRate } from './node_overload_server.ts';
import { TASK_HANDLERS } from './node_tasks.ts';
import { encodeTaskRequest, type TaskAnswer } from './task_message.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long any one answer may take before the test calls it lost: generous on a loaded machine. */
const ANSWER_WAIT_MS = 20_000;

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

/** Starts an overload server with `workers` real worker threads and its records in memory. */
async function serve(options: { workers: number; clientRate?: ClientRate; stageSplit?: StageSplit }) {
  const pool = await WorkerPool.start({ workers: options.workers, maxQueue: options.workers * 2, taskBudgetMs: 30_000, handlers: TASK_HANDLERS });
  const sink = memorySink();
  const logger = createLogger({ clock: preciseClock, ids: counterIds(), sink: sink.sink });
  const server = await OverloadServer.listen({ runner: pool, concurrency: options.workers, logger, clientRate: options.clientRate, stageSplit: options.stageSplit });
  running.push(async () => {
    await server.close({ reason: 'test', graceMs: 5000 });
    await pool.close();
  });
  return { server, port: server.address.port, records: sink.records };
}

/** The greedy client: `bursts` writes of `perBurst` 10 ms tasks, `everyMs` apart, far past what two workers can do. */
async function greedy(port: number, bursts: number, perBurst: number, everyMs: number): Promise<{ answers: TaskAnswer[]; sendingMs: number }> {
  const client = await TaskClient.open(port);
  const pending: Promise<TaskAnswer>[] = [];
  const startedMs = performance.now();
  for (let b = 0; b < bursts; b += 1) {
    const frames = Array.from({ length: perBurst }, (_, i) => {
      const requestId = `g${b}-${i}`;
      pending.push(client.expect(requestId, ANSWER_WAIT_MS).then((a) => a.answer));
      return encodeTaskRequest({ requestId, task: 'spin', arg: 10, priority: 'high', timeoutMs: 30_000, body: new Uint8Array(0) });
    });
    client.writeRaw(Buffer.concat(frames));
    if (b < bursts - 1) await sleep(everyMs);
  }
  const sendingMs = performance.now() - startedMs;
  const answers = await Promise.all(pending);
  client.close();
  return { answers, sendingMs };
}

/** A polite client: `count` small requests, one at a time, `gapMs` apart. */
async function polite(port: number, name: string, count: number, gapMs: number): Promise<TaskAnswer[]> {
  const client = await TaskClient.open(port);
  const answers: TaskAnswer[] = [];
  for (let i = 0; i < count; i += 1) {
    const { answer } = await client.request({ requestId: `${name}-${i}`, task: 'spin', arg: 2, priority: 'high', timeoutMs: 30_000 }, ANSWER_WAIT_MS);
    answers.push(answer);
    await sleep(gapMs);
  }
  client.close();
  return answers;
}

/** The same traffic every test sends: one greedy client (20 bursts of 60 tasks, 50 ms apart) and three polite ones. */
async function crowd(port: number) {
  const [flood, ...others] = await Promise.all([greedy(port, 20, 60, 50), ...['p1', 'p2', 'p3'].map((name) => polite(port, name, 15, 30))]);
  return { flood: flood as { answers: TaskAnswer[]; sendingMs: number }, polite: (others as TaskAnswer[][]).flat() };
}

const codeOf = (a: TaskAnswer) => (a.type === 'task_reply' ? 'ok' : a.errorCode);

describe('per-client request rate', () => {
  // #region client-rate-test
  it('throttles one greedy client with E_CLIENT_THROTTLED and a retry hint, counted, while three polite clients get every answer', async () => {
    const rate: ClientRate = { perSec: 20, burst: 5 };
    const { server, port } = await serve({ workers: 2, clientRate: rate });
    const { flood, polite: answers } = await crowd(port);

    expect(answers.map(codeOf)).toEqual(answers.map(() => 'ok'));
    const throttled = flood.answers.filter((a) => a.type === 'error' && a.errorCode === 'E_CLIENT_THROTTLED');
    expect(throttled.length).toBeGreaterThan(0);
    for (const a of throttled) expect(a.type === 'error' && a.retryAfterMs !== undefined && a.retryAfterMs > 0).toBe(true);
    // What got through is what the bucket allows over the time the greedy client spent sending.
    const served = flood.answers.filter((a) => a.type === 'task_reply').length;
    expect(served).toBeLessThanOrEqual(rate.burst + Math.ceil((rate.perSec * flood.sendingMs) / 1000));
    expect(served + throttled.length).toBe(flood.answers.length); // nothing else: no shed, no overload
    expect(server.stats().throttled).toBe(throttled.length);
    expect(server.stats().controller.refused).toEqual({});
  });

  it('negative control: without a per-client rate the same greedy client fills the shared queue, and polite clients are refused', async () => {
    const { server, port } = await serve({ workers: 2 });
    const { flood, polite: answers } = await crowd(port);

    expect(answers.map(codeOf)).toContain('E_OVERLOADED');
    expect(flood.answers.map(codeOf)).not.toContain('E_CLIENT_THROTTLED');
    expect(server.stats().throttled).toBe(0);
  });
  // #endregion client-rate-test
});

describe('a budget split over the stages, end to end', () => {
  /** 2000 ms shared out: the queue share ends 500 ms after the first byte. */
  const SPLIT: StageSplit = { admission: 5, queue: 20, pool: 65, reply: 10 };

  /** One worker kept busy for 1 s, then a 1 ms task with a 2000 ms budget behind it. */
  async function queuedBehindHog(port: number): Promise<TaskAnswer> {
    const client = await TaskClient.open(port);
    const hog = client.request({ requestId: 'hog', task: 'spin', arg: 1000, priority: 'high', timeoutMs: 30_000 }, ANSWER_WAIT_MS);
    const behind = await client.request({ requestId: 'behind', task: 'spin', arg: 1, priority: 'high', timeoutMs: 2000 }, ANSWER_WAIT_MS);
    expect((await hog).answer.type).toBe('task_reply');
    client.close();
    return behind.answer;
  }

  it('drops at the queue stage a request that waited out its queue share, with its whole deadline still ahead, and logs the share', async () => {
    const { port, records } = await serve({ workers: 1, stageSplit: SPLIT });
    const answer = await queuedBehindHog(port);
    expect(answer).toMatchObject({ type: 'error', errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue' });
    const drop = records.find((r) => r.msg === 'request dropped' && r.request_id === 'behind');
    expect(drop?.fields).toMatchObject({ stage: 'queue', budget_ms: 2000, stage_end_ms: 500 });
  });

  it('negative control: without the split the same request waits for the worker and is answered within its budget', async () => {
    const { port } = await serve({ workers: 1 });
    expect((await queuedBehindHog(port)).type).toBe('task_reply');
  });
});
