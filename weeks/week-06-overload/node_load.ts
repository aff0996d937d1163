/**
 * Load and misbehaving clients for the overload server: an open-loop load generator
 * (requests go out on a schedule whether or not answers come back, the way real
 * traffic arrives, so overload shows up as refusals rather than as a politely slower
 * client), a Slowloris sender, and a client that never reads.
 *
 * Used by `civictrust overload load`, the gate, the drill and the backpressure report.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, seededRandom } from '../../lib/framing.ts';
import { LatencyHistogram, closeInterval, type SoakInterval } from '../../lib/server.ts';
import type { Priority } from './ladder.ts';
import { encodeTaskRequest, parseTaskAnswer, type TaskAnswer, type TaskName } from './task_message.ts';

/** Opens a TCP connection to 127.0.0.1 (or `host`). */
function open(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, noDelay: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** An answer as the client saw it. */
export interface ClientAnswer {
  /** The answer. */
  readonly answer: TaskAnswer;
  /** From the request's write to the answer's arrival (ms). */
  readonly latencyMs: number;
}

/** One connection that sends task requests and matches answers by request id. */
export class TaskClient {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 32 * 1024 * 1024 });
  readonly #waiting = new Map<string, { sentMs: number; resolve: (a: ClientAnswer) => void; reject: (e: Error) => void }>();
  /** Answers with request id `none` (a connection-level error such as `E_SLOW_CLIENT`). */
  readonly unmatched: TaskAnswer[] = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Uint8Array) => {
      for (const payload of this.#decoder.push(chunk)) {
        const answer = parseTaskAnswer(payload);
        const waiter = this.#waiting.get(answer.requestId);
        if (waiter === undefined) {
          this.unmatched.push(answer);
          continue;
        }
        this.#waiting.delete(answer.requestId);
        waiter.resolve({ answer, latencyMs: performance.now() - waiter.sentMs });
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const waiter of this.#waiting.values()) waiter.reject(new Error('connection closed'));
      this.#waiting.clear();
      resolve();
    }));
  }

  /** Connects. */
  static async open(port: number, host?: string): Promise<TaskClient> {
    return new TaskClient(await open(port, host));
  }

  /** Requests waiting for an answer. */
  get pending(): number {
    return this.#waiting.size;
  }

  /**
   * Sends one request.
   * @returns the answer; rejects if the connection closes first or no answer comes within `waitMs`
   */
  request(request: { requestId: string; task: TaskName; arg: number; priority: Priority; timeoutMs: number; body?: Uint8Array }, waitMs = 30_000): Promise<ClientAnswer> {
    const answer = this.expect(request.requestId, waitMs);
    this.#socket.write(encodeTaskRequest({ ...request, body: request.body ?? new Uint8Array(0) }));
    return answer;
  }

  /**
   * Waits for the answer to a request sent some other way (with {@link TaskClient.writeRaw}).
   * Latency is timed from this call.
   */
  expect(requestId: string, waitMs = 30_000): Promise<ClientAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        reject(new Error(`no answer within ${waitMs} ms`));
      }, waitMs);
      timer.unref();
      this.#waiting.set(requestId, {
        sentMs: performance.now(),
        resolve: (a) => { clearTimeout(timer); resolve(a); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  }

  /** Writes raw bytes (several frames at once, for a burst). */
  writeRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }
}

/** One phase of a load run. */
export interface LoadPhase {
  /** Its name in the report, e.g. `overload`. */
  readonly name: string;
  /** Requests sent per second. */
  readonly ratePerSec: number;
  /** How long the phase lasts. */
  readonly seconds: number;
}

/** One phase's totals. */
export interface PhaseSummary {
  /** The phase's name. */
  readonly name: string;
  /** The rate offered. */
  readonly ratePerSec: number;
  /** Requests sent. */
  readonly sent: number;
  /** Correct answers. */
  readonly ok: number;
  /** Error answers and client timeouts (`timeout`) by code. */
  readonly codes: Readonly<Record<string, number>>;
  /** Correct answers per second. */
  readonly throughputPerSec: number;
  /** Median latency of the correct answers (ms), null without any. */
  readonly p50Ms: number | null;
  /** 95th-percentile latency of the correct answers (ms), null without any. */
  readonly p95Ms: number | null;
  /** 99th-percentile latency of the correct answers (ms), null without any: the tail one slow answer in a hundred sets. */
  readonly p99Ms: number | null;
  /** Failed share of the requests sent. */
  readonly errorRate: number;
}

/** How a {@link nonReader} ended. */
export interface NonReaderResult {
  /** The server closed the connection. */
  readonly cut: boolean;
  /** When, from the first request (ms); or how long it waited in vain. */
  readonly afterMs: number;
}

/** Options of {@link runTaskLoad}. */
export interface TaskLoadOptions {
  /** The server's port. */
  readonly port: number;
  /** The server's host. Default 127.0.0.1. */
  readonly host?: string;
  /** Connections to spread the load over. */
  readonly clients: number;
  /** Phases run one after another: a request rate held for a time. */
  readonly phases: readonly LoadPhase[];
  /** The task and its size. */
  readonly task: TaskName;
  /** The task's `arg`. */
  readonly arg: number;
  /** The share of requests sent high priority, 0–1. */
  readonly highShare: number;
  /** Each request's `timeout_ms`. */
  readonly timeoutMs: number;
  /** Length of one reporting interval (ms). */
  readonly intervalMs: number;
  /** Seeds the priority draw. */
  readonly seed: number;
  /** Called with each interval as it closes (progress output). */
  readonly onInterval?: (interval: LoadInterval) => void;
}

/** One interval of a load run: week 3's soak interval plus the counts this week cares about. */
export interface LoadInterval extends SoakInterval {
  /** The phase the interval belongs to. */
  readonly phase: string;
  /** Requests sent in the interval. */
  readonly sent: number;
  /** Correct answers per second. */
  readonly throughputPerSec: number;
  /** Error answers (and client timeouts, as `timeout`) by code. */
  readonly codes: Readonly<Record<string, number>>;
}

/** A load run's result. */
export interface TaskLoadReport {
  /** The intervals, in order. */
  readonly intervals: LoadInterval[];
  /** The totals of each phase. */
  readonly phases: PhaseSummary[];
}

// #region run-task-load
/**
 * Runs open-loop load: every 10 ms each phase's due requests go out, spread round-robin
 * over the connections; answers are matched by id and timed. Answers to requests sent in
 * one interval count in the interval they arrive in.
 */
export async function runTaskLoad(options: TaskLoadOptions): Promise<TaskLoadReport> {
  const clients = await Promise.all(Array.from({ length: options.clients }, () => TaskClient.open(options.port, options.host)));
  const random = seededRandom(options.seed);
  const intervals: LoadInterval[] = [];
  const phases: PhaseSummary[] = [];
  const startedMs = performance.now();
  let serial = 0;
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  for (const phase of options.phases) {
    const phaseStart = performance.now();
    const phaseEnd = phaseStart + phase.seconds * 1000;
    const total = { sent: 0, ok: 0, codes: {} as Record<string, number>, latency: new LatencyHistogram() };
    let bucket = { startMs: phaseStart, sent: 0, latency: new LatencyHistogram(), codes: {} as Record<string, number> };
    const flush = (endMs: number) => {
      const base = closeInterval(
        { startS: round((bucket.startMs - startedMs) / 1000), endS: round((endMs - startedMs) / 1000) },
        bucket.latency,
        bucket.codes,
      );
      const interval: LoadInterval = {
        ...base, phase: phase.name, sent: bucket.sent, codes: { ...bucket.codes },
        throughputPerSec: round(bucket.latency.count / ((endMs - bucket.startMs) / 1000)),
      };
      intervals.push(interval);
      options.onInterval?.(interval);
      bucket = { startMs: endMs, sent: 0, latency: new LatencyHistogram(), codes: {} };
    };
    for (;;) {
      const nowMs = performance.now();
      if (nowMs >= phaseEnd) break;
      if (nowMs - bucket.startMs >= options.intervalMs) flush(bucket.startMs + options.intervalMs);
      const due = Math.floor(((nowMs - phaseStart) / 1000) * phase.ratePerSec) - total.sent;
      for (let i = 0; i < due; i += 1) {
        serial += 1;
        total.sent += 1;
        bucket.sent += 1;
        const client = clients[next] as TaskClient;
        next = (next + 1) % clients.length;
        const priority: Priority = random() < options.highShare ? 'high' : 'low';
        const request = client.request({ requestId: `l${serial}`, task: options.task, arg: options.arg, priority, timeoutMs: options.timeoutMs }, options.timeoutMs + 5000);
        const settle = request.then(
          ({ answer, latencyMs }) => {
            if (answer.type === 'task_reply') {
              bucket.latency.record(latencyMs);
              total.latency.record(latencyMs);
              total.ok += 1;
            } else {
              count(bucket.codes, answer.errorCode);
              count(total.codes, answer.errorCode);
            }
          },
          () => {
            count(bucket.codes, 'timeout');
            count(total.codes, 'timeout');
          },
        );
        inFlight.add(settle);
        void settle.then(() => inFlight.delete(settle));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(inFlight); // the phase's last answers land in its last interval
    flush(performance.now());
    const errors = Object.values(total.codes).reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - phaseStart) / 1000;
    phases.push({
      name: phase.name, ratePerSec: phase.ratePerSec, sent: total.sent, ok: total.ok, codes: total.codes,
      throughputPerSec: round(total.ok / seconds),
      p50Ms: total.latency.count === 0 ? null : round(total.latency.percentile(50) as number),
      p95Ms: total.latency.count === 0 ? null : round(total.latency.percentile(95) as number),
      p99Ms: total.latency.count === 0 ? null : round(total.latency.percentile(99) as number),
      errorRate: total.sent === 0 ? 0 : round(errors / total.sent, 6),
    });
  }
  for (const client of clients) client.close();
  return { intervals, phases };
}
// #endregion run-task-load

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** How a slow sender's connection ended. */
export interface SlowSenderResult {
  /** From its first byte to the server's first answer, or to the close if none came (ms); Infinity if neither came before `giveUpMs`. */
  readonly cutAfterMs: number;
  /** The first answer's type, if one came. */
  readonly answered?: 'task_reply' | 'error';
  /** The error code of the first answer, if it was an error. */
  readonly errorCode?: string;
  /** Bytes it managed to send. */
  readonly sentBytes: number;
}

// #region slowloris
/**
 * A slow sender. Without `frame`, a Slowloris: it announces a frame of `frameBytes`
 * and dribbles spaces, never finishing. With `frame`, it dribbles that real frame and
 * waits for its answer. Either way `bytesPerTick` go out every `tickMs`. Resolves at
 * the first answer, at the close, or after `giveUpMs` (with `cutAfterMs: Infinity`).
 */
export async function slowSender(port: number, options: { frameBytes?: number; frame?: Uint8Array; bytesPerTick: number; tickMs: number; giveUpMs: number }): Promise<SlowSenderResult> {
  const socket = await open(port);
  let bytes = options.frame;
  if (bytes === undefined) {
    bytes = new Uint8Array(4 + (options.frameBytes ?? 65_536)).fill(0x20);
    new DataView(bytes.buffer).setUint32(0, options.frameBytes ?? 65_536, false);
  }
  const decoder = new FrameDecoder({ maxFrameBytes: 1024 * 1024 });
  let first: TaskAnswer | undefined;
  let resolveAnswer: (ms: number) => void = () => {};
  const answered = new Promise<number>((resolve) => (resolveAnswer = resolve));
  socket.on('error', () => {});
  socket.on('data', (chunk: Uint8Array) => {
    for (const payload of decoder.push(chunk)) {
      if (first !== undefined) continue;
      first = parseTaskAnswer(payload);
      resolveAnswer(performance.now());
    }
  });
  const startMs = performance.now();
  let sent = 0;
  const tick = () => {
    if (socket.destroyed || sent >= (bytes as Uint8Array).length) return;
    const next = (bytes as Uint8Array).subarray(sent, sent + options.bytesPerTick);
    socket.write(next);
    sent += next.length;
  };
  tick(); // the first byte goes now: the server's deadline and window start here
  const ticker = setInterval(tick, options.tickMs);
  const endMs = await Promise.race([
    answered,
    new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now()))),
    new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), options.giveUpMs).unref()),
  ]);
  clearInterval(ticker);
  socket.destroy();
  return {
    cutAfterMs: endMs === Number.POSITIVE_INFINITY ? endMs : Math.round(endMs - startMs),
    sentBytes: sent,
    ...(first === undefined ? {} : { answered: first.type, ...(first.type === 'error' ? { errorCode: first.errorCode } : {}) }),
  };
}
// #endregion slowloris

/**
 * A client that floods `fill` requests of `replyBytes` and never reads a byte back.
 * Resolves when the server cuts it, or after `giveUpMs` with `cut: false`.
 */
export async function nonReader(port: number, options: { replyBytes: number; requests: number; giveUpMs: number }): Promise<NonReaderResult> {
  const socket = await open(port);
  socket.pause(); // never read: the kernel's receive buffer fills, then the server's send buffer
  socket.on('error', () => {});
  const startMs = performance.now();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < options.requests; i += 1) {
    frames.push(encodeTaskRequest({ requestId: `nr${i}`, task: 'fill', arg: options.replyBytes, priority: 'high', timeoutMs: 60_000, body: new Uint8Array(0) }));
  }
  // Written in slices, obeying our own write() return value: the flood is the replies, not our buffer.
  const write = async () => {
    for (const frame of frames) {
      if (socket.destroyed) return;
      if (!socket.write(frame)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
    }
  };
  void write();
  // A paused socket never reads, so it would not notice the server's reset: a 4-byte
  // keep-alive (an empty frame) every 250 ms makes the kernel report it.
  const probe = setInterval(() => socket.write(new Uint8Array(4)), 250);
  const closedMs = await Promise.race([
    new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now()))),
    new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), options.giveUpMs).unref()),
  ]);
  clearInterval(probe);
  socket.destroy();
  return Number.isNaN(closedMs) ? { cut: false, afterMs: Math.round(performance.now() - startMs) } : { cut: true, afterMs: Math.round(closedMs - startMs) };
}
