/**
 * The two extension points for servers built on this week's: a request gate whose
 * expensive `authorize` step runs only for admitted requests, inside a worker slot,
 * and an answer listener told once per answer. The controller half uses a fake runner
 * and a hand-moved clock; the server half uses a real socket and a real worker pool.
 */
import { describe, expect, it } from 'vitest';
import { CivicError } from '../../lib/errors.ts';
import { createLogger, encodeFrame, memorySink, nullSink } from '../../lib/framing.ts';
import { WorkerPool } from '../../lib/pool.ts';
import { OverloadController, type TaskInput, type TaskOutput, type TaskRunner, type WorkOutcome } from './controller.ts';
import { deadlineAfter } from './deadline.ts';
import { OVERLOAD_THRESHOLDS } from './ladder.ts';
import { TaskClient } from './node_load.ts';
import { OverloadServer } from './node_overload_server.ts';
import { TASK_HANDLERS } from './node_tasks.ts';
import type { AnswerEvent, GateVerdict } from './request_gate.ts';
import { encodeTaskRequest } from './task_message.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the authorize step of a gated request', () => {
  it('runs only for admitted requests, after admission and before the task, and a rejection answers with its code', async () => {
    const clock = { now: () => 0 };
    const calls: string[] = [];
    const pending: (() => void)[] = [];
    const runner: TaskRunner = {
      submit<I, O>(_type: string, input: I): Promise<O> {
        calls.push(`run ${(input as TaskInput).arg}`);
        return new Promise<O>((resolve) => pending.push(() => resolve({ dropped: false, body: new Uint8Array(0) } satisfies TaskOutput as O)));
      },
    };
    const controller = new OverloadController({ runner, concurrency: 1, clock, logger: createLogger({ clock, ids: { next: () => 'id' }, sink: nullSink }) });
    const outcomes: WorkOutcome[][] = [];
    const n = OVERLOAD_THRESHOLDS.reject.enterDepth + 3; // one runs, 32 wait, the rest meet the reject line
    for (let i = 0; i < n; i += 1) {
      outcomes.push([]);
      const bad = i === 1;
      controller.offer({
        requestId: `g${i}`, task: 'spin', arg: i, priority: 'high', deadline: deadlineAfter(0, 60_000), body: new Uint8Array(0),
        authorize: async () => {
          calls.push(`authorize ${i}`);
          if (bad) throw new CivicError('E_SIG_INVALID', 'Cannot accept message: forged', { definite: true });
        },
      }, (o) => outcomes[i]?.push(o));
    }
    await settle();
    expect(calls).toEqual(['authorize 0', 'run 0']); // the queued ones are not checked yet
    const refused = outcomes.filter((o) => o[0]?.ok === false && o[0].errorCode === 'E_OVERLOADED').length;
    expect(refused).toBeGreaterThan(0);
    for (let i = 0; i < n && pending.length > 0; i += 1) {
      pending.shift()?.();
      await settle();
      await settle();
    }
    expect(outcomes[1]).toEqual([expect.objectContaining({ ok: false, errorCode: 'E_SIG_INVALID' })]);
    expect(calls.filter((c) => c.startsWith('authorize')).length).toBe(n - refused); // a refused request cost no check
    expect(calls).not.toContain('run 1');
    expect(outcomes.every((o) => o.length === 1)).toBe(true);
  });
});

describe('a gated overload server', () => {
  it('answers a frame the gate refuses with its code, runs one it opens, and tells the listener once per answer', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 2, taskBudgetMs: 10_000, handlers: TASK_HANDLERS });
    const answers: AnswerEvent[] = [];
    const sink = memorySink();
    const gate = {
      tryOpen(frame: Uint8Array): GateVerdict {
        const text = new TextDecoder().decode(frame);
        if (!text.startsWith('OK ')) return { ok: false, requestId: 'refused-1', errorCode: 'E_SIG_MISSING', message: 'Cannot accept message: it is not signed' };
        return { ok: true, requestId: 'opened-1', payload: frame.subarray(3), authorize: () => Promise.resolve() };
      },
    };
    const server = await OverloadServer.listen({
      runner: pool, concurrency: 1, logger: createLogger({ clock: { now: () => 0 }, ids: { next: () => 'id' }, sink: sink.sink }),
      gate, onAnswer: (event) => answers.push(event),
    });
    const client = await TaskClient.open(server.address.port);
    try {
      const task = encodeTaskRequest({ requestId: 'opened-1', task: 'fill', arg: 3, priority: 'high', timeoutMs: 10_000, body: new Uint8Array(0) }).subarray(4);
      const refused = client.expect('refused-1');
      client.writeRaw(encodeFrame(task));
      expect((await refused).answer).toMatchObject({ type: 'error', errorCode: 'E_SIG_MISSING' });
      const opened = client.expect('opened-1');
      client.writeRaw(encodeFrame(Uint8Array.from([...new TextEncoder().encode('OK '), ...task])));
      expect((await opened).answer).toEqual({ type: 'task_reply', requestId: 'opened-1', body: new TextEncoder().encode('aaa') });
      const mismatch = client.expect('opened-1');
      const other = encodeTaskRequest({ requestId: 'other-1', task: 'fill', arg: 3, priority: 'high', timeoutMs: 10_000, body: new Uint8Array(0) }).subarray(4);
      client.writeRaw(encodeFrame(Uint8Array.from([...new TextEncoder().encode('OK '), ...other])));
      expect((await mismatch).answer).toMatchObject({ type: 'error', errorCode: 'E_MESSAGE_MALFORMED' });
      expect(answers.map((a) => [a.requestId, a.ok, a.errorCode])).toEqual([
        ['refused-1', false, 'E_SIG_MISSING'], ['opened-1', true, undefined], ['opened-1', false, 'E_MESSAGE_MALFORMED'],
      ]);
      expect(answers.every((a) => a.latencyMs >= 0)).toBe(true);
    } finally {
      client.close();
      await server.close({ reason: 'test', graceMs: 1000 });
      await pool.close();
    }
  });
});
