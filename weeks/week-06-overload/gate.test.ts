/**
 * The week 6 gate: one or more tests per criterion of the gate table, each named
 * `[6.k] <claim>`, plus negative controls that show each check can fail.
 * Real server processes, real sockets, real worker threads; no wall-clock speed
 * assertions, only generous bounds. `npm run gate -- week-6` maps them to the criteria.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preciseClock, startServerProcess, waitForRecords, type LoggedRecord, type ServerProcess } from '../../lib/framing.ts';
import { WorkerPool } from '../../lib/pool.ts';
import { TSX_LOADER, makeWorkspace } from '../../lib/testing.ts';
import type { TaskInput, TaskOutput } from './controller.ts';
import { OVERLOAD_THRESHOLDS, predictBurst, type Priority } from './ladder.ts';
import { TaskClient, slowSender, type ClientAnswer } from './node_load.ts';
import { TASK_HANDLERS } from './node_tasks.ts';
import { encodeTaskRequest, type TaskAnswer } from './task_message.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, 'node_main.ts');
const workspace = makeWorkspace('week6');
const fresh = workspace.fresh;
afterAll(() => workspace.remove());
const T = OVERLOAD_THRESHOLDS;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The progress rule every gate server runs under. */
const WINDOW_MS = 1000;
const MIN_BYTES = 512;
/** The generous deadline for a slow sender's cut, after its first byte. */
const CUT_DEADLINE_MS = WINDOW_MS + 4000;

/** Starts `overload serve` with 2 workers and its log in a fresh file. */
async function startServer(args: readonly string[] = [], entry = MAIN): Promise<{ server: ServerProcess; log: string }> {
  const log = fresh('server.log');
  const server = await startServerProcess(
    ['overload', 'serve', '--port', '0', '--workers', '2', '--log', log, '--stats-interval-ms', '200',
      '--window-ms', String(WINDOW_MS), '--min-progress-bytes', String(MIN_BYTES), ...args],
    { entry },
  );
  return { server, log };
}

async function stopServer(server: ServerProcess): Promise<void> {
  const exited = await Promise.race([server.stop('SIGTERM').then(() => true), sleep(8000).then(() => false)]);
  if (!exited) await server.stop('SIGKILL');
}

/** Runs a Node script as a real process (with the TypeScript loader) and collects its output. */
function runNode(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** 60 requests, high and low by turns, as one write: the whole burst lands in one read. */
async function sendBurst(port: number, prefix: string, spinMs: number): Promise<{ priorities: Priority[]; answers: TaskAnswer[] }> {
  const client = await TaskClient.open(port);
  const priorities = Array.from({ length: 60 }, (_, i): Priority => (i % 2 === 0 ? 'high' : 'low'));
  const requests = priorities.map((priority, i) => ({ requestId: `${prefix}${i + 1}`, task: 'spin' as const, arg: spinMs, priority, timeoutMs: 30_000, body: new Uint8Array(0) }));
  const pending: Promise<ClientAnswer>[] = [];
  const frames = requests.map((r) => encodeTaskRequest(r));
  const joined = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    joined.set(f, offset);
    offset += f.length;
  }
  for (const r of requests) pending.push(client.expect(r.requestId));
  client.writeRaw(joined);
  const answers = (await Promise.all(pending)).map((a) => a.answer);
  client.close();
  return { priorities, answers };
}

const outcomeOf = (a: TaskAnswer) => (a.type === 'task_reply' ? 'admit' : a.errorCode);
const drops = (records: readonly LoggedRecord[]) => records.filter((r) => r.msg === 'request dropped');

describe('week-06 · backpressure and overload control', () => {
  let server: ServerProcess;
  let log: string;
  beforeAll(async () => {
    ({ server, log } = await startServer());
  });
  afterAll(async () => {
    await stopServer(server);
  });

  // ---------------------------------------------------------------------------------
  // [6.1] the ladder follows the threshold table

  // #region burst
  it('[6.1] a burst of 60 requests meets the shed and reject lines exactly where the threshold table predicts, each refusal explicit with the table\'s retry hint', async () => {
    const { priorities, answers } = await sendBurst(server.port, 'b', 100);
    const predicted = predictBurst(priorities, 2);
    expect(answers.map(outcomeOf)).toEqual(predicted.map((p) => p.outcome));
    expect(predicted.find((p) => p.outcome === 'E_OVERLOADED')?.index).toBe(50); // 2 run, 16 queue, 16 more highs queue (shed), then 32 wait
    for (const a of answers) {
      if (a.type === 'error' && a.errorCode === 'E_SHED_LOW_PRIORITY') expect(a.retryAfterMs).toBe(T.shed.retryAfterMs);
      if (a.type === 'error' && a.errorCode === 'E_OVERLOADED') expect(a.retryAfterMs).toBe(T.reject.retryAfterMs);
    }
    const records = await waitForRecords(log, (rs) => rs.filter((r) => r.msg === 'ladder changed').length >= 2);
    expect(records.filter((r) => r.msg === 'ladder changed').slice(0, 2)).toEqual([
      expect.objectContaining({ from: 'normal', to: 'shed', cause: 'depth', depth: T.shed.enterDepth }),
      expect.objectContaining({ from: 'shed', to: 'reject', cause: 'depth', depth: T.reject.enterDepth }),
    ]);
  });
  // #endregion burst

  it('[6.1] the oldest wait alone climbs the ladder: two CPU-heavy tasks hog both workers, one request waits, and a low-priority request is shed', async () => {
    const client = await TaskClient.open(server.port);
    const isWaitChange = (r: LoggedRecord) => r.msg === 'ladder changed' && r.cause === 'wait';
    const before = (await waitForRecords(log, (rs) => rs.filter((r) => r.msg === 'server stats').at(-1)?.ladder === 'normal')).filter(isWaitChange).length;
    const hogs = [1, 2].map((i) => client.request({ requestId: `hog${i}`, task: 'spin', arg: 1500, priority: 'high', timeoutMs: 30_000 }));
    const waiter = client.request({ requestId: 'waiter', task: 'spin', arg: 1, priority: 'high', timeoutMs: 30_000 });
    await waitForRecords(log, (rs) => rs.filter(isWaitChange).length > before);
    const low = await client.request({ requestId: 'low-while-hogged', task: 'spin', arg: 1, priority: 'low', timeoutMs: 30_000 });
    expect(low.answer).toMatchObject({ type: 'error', errorCode: 'E_SHED_LOW_PRIORITY', retryAfterMs: T.shed.retryAfterMs });
    expect((await Promise.all([...hogs, waiter])).map((a) => a.answer.type)).toEqual(['task_reply', 'task_reply', 'task_reply']);
    const change = (await waitForRecords(log, () => true)).filter(isWaitChange)[before];
    expect(change).toMatchObject({ to: 'shed', depth: 1 });
    expect(change?.oldest_wait_ms).toBeGreaterThanOrEqual(T.shed.enterWaitMs);
    client.close();
  });

  it('[6.1] negative control: a server run with a different table (shed at 100, reject at 200) admits the whole burst, and the comparison with the table\'s prediction fails', async () => {
    const table = fresh('thresholds.json');
    writeFileSync(table, JSON.stringify({ ...T, shed: { ...T.shed, enterDepth: 100, exitDepth: 50 }, reject: { ...T.reject, enterDepth: 200, exitDepth: 150 } }));
    const other = await startServer(['--thresholds', table]);
    try {
      const { priorities, answers } = await sendBurst(other.server.port, 'n', 20);
      expect(answers.every((a) => a.type === 'task_reply')).toBe(true);
      expect(answers.map(outcomeOf)).not.toEqual(predictBurst(priorities, 2).map((p) => p.outcome));
    } finally {
      await stopServer(other.server);
    }
  });

  // #region target-load
  it('[6.1] at target load the error rate stays under the 1 % cap, and at 10 times that load every failure is an explicit refusal, none a timeout', async () => {
    const run = await runNode([MAIN, 'overload', 'load', '--port', String(server.port), '--rate', '40', '--overload-rate', '400',
      '--seconds', '2', '--task', 'spin', '--arg', '5', '--timeout-ms', '2000', '--json']);
    const report = JSON.parse(run.stdout) as { phases: { name: string; sent: number; ok: number; errorRate: number; codes: Record<string, number> }[] };
    const [normal, overload] = report.phases;
    expect(normal?.errorRate).toBeLessThanOrEqual(0.01);
    expect(overload?.ok).toBeGreaterThan(0);
    expect(Object.keys(overload?.codes ?? {}).every((code) => code === 'E_OVERLOADED' || code === 'E_SHED_LOW_PRIORITY')).toBe(true);
    expect(run.code).toBe(0);
  });
  // #endregion target-load

  // ---------------------------------------------------------------------------------
  // [6.2] slow senders are cut on schedule

  // #region slowloris
  it('[6.2] 20 Slowloris senders (8 bytes every 100 ms of a 4 KiB frame) are each cut with E_SLOW_CLIENT after one window and before the generous deadline', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => slowSender(server.port, { frameBytes: 4096, bytesPerTick: 8, tickMs: 100, giveUpMs: CUT_DEADLINE_MS + 2000 })));
    for (const r of results) {
      expect(r.errorCode).toBe('E_SLOW_CLIENT');
      expect(r.cutAfterMs).toBeGreaterThanOrEqual(WINDOW_MS);
      expect(r.cutAfterMs).toBeLessThanOrEqual(CUT_DEADLINE_MS);
    }
    const records = await waitForRecords(log, (rs) => rs.filter((r) => r.msg === 'connection closed' && r.reason === 'slow_sender').length >= 20);
    expect(records.filter((r) => r.reason === 'slow_sender').every((r) => r.error_code === 'E_SLOW_CLIENT' && (r.window_bytes as number) < MIN_BYTES)).toBe(true);
  });
  // #endregion slowloris

  it('[6.2] an honest slow sender above the floor (100 bytes every 100 ms) finishes its 2 KiB request over two windows and gets its answer', async () => {
    const frame = encodeTaskRequest({ requestId: 'slow-but-honest', task: 'sha256', arg: 1, priority: 'high', timeoutMs: 30_000, body: new Uint8Array(1900).fill(1) });
    const result = await slowSender(server.port, { frame, bytesPerTick: 100, tickMs: 100, giveUpMs: 15_000 });
    expect(result).toMatchObject({ answered: 'task_reply' });
    expect(result.cutAfterMs).toBeGreaterThanOrEqual(WINDOW_MS); // it really took more than a window
  });

  it('[6.2] negative control: with the progress rule off (--min-progress-bytes 0), the same Slowloris sender is still connected after three windows', async () => {
    const other = await startServer(['--min-progress-bytes', '0']);
    try {
      const result = await slowSender(other.server.port, { frameBytes: 4096, bytesPerTick: 8, tickMs: 100, giveUpMs: 3 * WINDOW_MS });
      expect(result.cutAfterMs).toBe(Number.POSITIVE_INFINITY);
      expect(result.errorCode).toBeUndefined();
    } finally {
      await stopServer(other.server);
    }
  });

  // ---------------------------------------------------------------------------------
  // [6.4] deadlines: whichever stage notices first drops the request

  // #region deadlines
  it('[6.4] each stage drops a request whose deadline passed before it: admission (no budget, or a budget spent arriving), queue, reply; each logged once with its stage', async () => {
    const client = await TaskClient.open(server.port);
    const noBudget = await client.request({ requestId: 'dl-admission', task: 'spin', arg: 1, priority: 'high', timeoutMs: 0 });
    expect(noBudget.answer).toMatchObject({ type: 'error', errorCode: 'E_DEADLINE_EXCEEDED', stage: 'admission' });

    // 700 bytes at 100 bytes per 100 ms: the 300 ms budget, counted from the first byte, is spent before the frame is whole.
    const trickled = encodeTaskRequest({ requestId: 'dl-arriving', task: 'spin', arg: 1, priority: 'high', timeoutMs: 300, body: new Uint8Array(600) });
    const arriving = await slowSender(server.port, { frame: trickled, bytesPerTick: 100, tickMs: 100, giveUpMs: 10_000 });
    expect(arriving).toMatchObject({ answered: 'error', errorCode: 'E_DEADLINE_EXCEEDED' });

    const hogs = [1, 2].map((i) => client.request({ requestId: `dl-hog${i}`, task: 'spin', arg: 800, priority: 'high', timeoutMs: 30_000 }));
    const queued = await client.request({ requestId: 'dl-queue', task: 'spin', arg: 1, priority: 'high', timeoutMs: 200 });
    expect(queued.answer).toMatchObject({ type: 'error', errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue' });
    await Promise.all(hogs);

    const late = await client.request({ requestId: 'dl-reply', task: 'spin', arg: 400, priority: 'high', timeoutMs: 150 });
    expect(late.answer).toMatchObject({ type: 'error', errorCode: 'E_DEADLINE_EXCEEDED', stage: 'reply' });
    client.close();

    const ids = ['dl-admission', 'dl-arriving', 'dl-queue', 'dl-reply'];
    const records = await waitForRecords(log, (rs) => ids.every((id) => drops(rs).some((r) => r.request_id === id)));
    expect(ids.map((id) => drops(records).filter((r) => r.request_id === id).map((r) => [r.stage, r.error_code]))).toEqual([
      [['admission', 'E_DEADLINE_EXCEEDED']],
      [['admission', 'E_DEADLINE_EXCEEDED']],
      [['queue', 'E_DEADLINE_EXCEEDED']],
      [['reply', 'E_DEADLINE_EXCEEDED']],
    ]);
  });

  it('[6.4] the pool stage: a worker thread handed a task whose deadline has passed does not run it and says how late it was', async () => {
    const pool = await WorkerPool.start({ workers: 1, maxQueue: 4, taskBudgetMs: 10_000, handlers: TASK_HANDLERS });
    try {
      const late = await pool.submit<TaskInput, TaskOutput>('spin', { arg: 2000, body: new Uint8Array(0), deadlineMs: preciseClock.now() - 5 });
      expect(late).toMatchObject({ dropped: true });
      expect((late as { lateMs: number }).lateMs).toBeGreaterThanOrEqual(5);
      const inTime = await pool.submit<TaskInput, TaskOutput>('fill', { arg: 3, body: new Uint8Array(0), deadlineMs: preciseClock.now() + 60_000 });
      expect(inTime).toEqual({ dropped: false, body: new Uint8Array([0x61, 0x61, 0x61]) });
    } finally {
      await pool.close();
    }
  });
  // #endregion deadlines

  it('[6.4] negative control: the same queue scenario with a budget the work fits in is answered, and no drop is logged for it', async () => {
    const client = await TaskClient.open(server.port);
    const hogs = [1, 2].map((i) => client.request({ requestId: `ok-hog${i}`, task: 'spin', arg: 300, priority: 'high', timeoutMs: 30_000 }));
    const queued = await client.request({ requestId: 'ok-queue', task: 'spin', arg: 1, priority: 'high', timeoutMs: 20_000 });
    expect(queued.answer.type).toBe('task_reply');
    await Promise.all(hogs);
    client.close();
    const records = await waitForRecords(log, (rs) => rs.filter((r) => r.msg === 'server stats').length > 0);
    expect(drops(records).filter((r) => r.request_id === 'ok-queue')).toEqual([]);
  });

  // ---------------------------------------------------------------------------------
  // [6.3] memory stays bounded through the slow-sender drill

  // #region drill
  it('[6.3] failure drill: 300 Slowloris senders, 6 non-readers and a connection flood at once; every one is cut or dropped and the server\'s RSS stays within baseline + 128 MiB', async () => {
    const run = await runNode([join(here, 'drill.mjs'), '--json']);
    const report = JSON.parse(run.stdout) as { pass: boolean; boundBytes: number; steps: { name: string; pass: boolean; got: string }[] };
    expect(report.steps.filter((s) => !s.pass)).toEqual([]);
    expect(report.boundBytes).toBe(128 * 1024 * 1024);
    expect(report.steps.map((s) => s.name)).toEqual(expect.arrayContaining([
      '[memory] the server\'s RSS stays within its baseline plus the bound for the whole drill',
      '[slowloris] every slow sender is cut with E_SLOW_CLIENT',
      '[non-reader] every client that never reads is cut',
    ]));
    expect(run.code).toBe(0);
  });

  it('[6.3] negative control: a server that ignores write()\'s return value and every limit fails the same drill: its RSS runs hundreds of MiB past the bound', async () => {
    const run = await runNode([join(here, 'drill.mjs'), '--json', '--server', join(here, 'testdata', 'unbounded_server.ts')]);
    const report = JSON.parse(run.stdout) as { pass: boolean; baselineRssBytes: number; peakRssBytes: number; steps: { name: string; pass: boolean }[] };
    expect(report.pass).toBe(false);
    expect(report.steps.filter((s) => !s.pass).map((s) => s.name)).toEqual(expect.arrayContaining([
      '[memory] the server\'s RSS stays within its baseline plus the bound for the whole drill',
      '[slowloris] every slow sender is cut with E_SLOW_CLIENT',
    ]));
    expect(report.peakRssBytes - report.baselineRssBytes).toBeGreaterThan(256 * 1024 * 1024);
    expect(run.code).toBe(1);
  });
  // #endregion drill
});
