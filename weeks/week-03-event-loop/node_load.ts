/**
 * Clients that put a real server under load, for the gate and the drills: many echo
 * clients in closed loops ({@link runEchoLoad}), idle connections held open
 * ({@link openIdleClients}), connect/close churn in four flavours ({@link runChurn}),
 * a reader that stops reading ({@link SlowReader}), and descriptor counts read from
 * `/proc/<pid>/fd` ({@link countFds}). Every client speaks over a real socket.
 * @module
 */
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { EchoConnection, frameMessage, seededRandom } from '../../lib/framing.ts';
import { LatencyHistogram } from './soak_report.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts the open descriptors of a process, from `/proc/<pid>/fd` (Linux). */
export function countFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Polls a process's descriptor count until `done(count)` holds or the time runs out.
 * @returns the last count read, whether or not `done` held
 */
export async function settleFds(pid: number, done: (count: number) => boolean, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = countFds(pid);
  while (!done(count) && Date.now() < deadline) {
    await sleep(50);
    count = countFds(pid);
  }
  return count;
}

/** Options of {@link runEchoLoad}. */
export interface EchoLoadOptions {
  /** The server's port (on 127.0.0.1 unless `host` says otherwise). */
  readonly port: number;
  /** The server's host. Default 127.0.0.1. */
  readonly host?: string;
  /** Concurrent clients, each in a closed loop: send, wait for the reply, think, repeat. */
  readonly clients: number;
  /** How long to run. */
  readonly durationMs: number;
  /** Stops the run early: each client finishes its request in flight and stops. */
  readonly signal?: AbortSignal;
  /** Pause between a reply and the next request, per client. Default 0. */
  readonly thinkMs?: number;
  /** Body sizes, drawn uniformly. Default 16-1024 bytes. */
  readonly bodyBytes?: { readonly min: number; readonly max: number };
  /** Seeds the bodies and sizes. */
  readonly seed: number;
  /** A request without a reply this long is an error (`E_NET_TIMEOUT`). Default 5000. */
  readonly timeoutMs?: number;
  /** Each client closes and reopens its connection after this many requests (0: never). Default 0. */
  readonly reconnectEvery?: number;
  /** Report an interval this often (with `onInterval`). Default: only at the end. */
  readonly intervalMs?: number;
  /** Receives each interval's latencies (correct replies) and failures by code. */
  readonly onInterval?: (span: { startMs: number; endMs: number }, latencies: LatencyHistogram, errorCodes: Record<string, number>) => void;
}

/** The totals of {@link runEchoLoad}. */
export interface EchoLoadResult {
  /** Correct replies. */
  readonly ok: number;
  /** Failures by code. */
  readonly errorCodes: Readonly<Record<string, number>>;
  /** Latencies of the correct replies over the whole run. */
  readonly latencies: LatencyHistogram;
  /** Connections opened, reconnects included. */
  readonly connections: number;
}

/** True when two byte arrays hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

// #region echo-load
/**
 * Runs closed-loop echo clients against a server and checks every reply byte for
 * byte. A failure (timeout, error reply, broken connection, wrong bytes) is counted by
 * its code and the client reconnects.
 * @param options - target, client count, duration, pacing, sizes and seed
 * @returns correct replies, failures by code, latencies, connections opened
 */
export async function runEchoLoad(options: EchoLoadOptions): Promise<EchoLoadResult> {
  const host = options.host ?? '127.0.0.1';
  const random = seededRandom(options.seed);
  const sizes = options.bodyBytes ?? { min: 16, max: 1024 };
  const total = new LatencyHistogram();
  let interval = new LatencyHistogram();
  let intervalErrors: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  let ok = 0;
  let connections = 0;
  const started = performance.now();
  const stopAt = started + options.durationMs;
  let intervalStart = started;
  const flush = () => {
    const now = performance.now();
    options.onInterval?.({ startMs: intervalStart - started, endMs: now - started }, interval, intervalErrors);
    interval = new LatencyHistogram();
    intervalErrors = {};
    intervalStart = now;
  };
  const ticker = options.intervalMs === undefined ? undefined : setInterval(flush, options.intervalMs);
  const fail = (code: string) => {
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    intervalErrors[code] = (intervalErrors[code] ?? 0) + 1;
  };

  async function client(index: number): Promise<void> {
    let connection: EchoConnection | undefined;
    let sent = 0;
    while (performance.now() < stopAt && options.signal?.aborted !== true) {
      const size = sizes.min + Math.floor(random() * (sizes.max - sizes.min + 1));
      const body = new Uint8Array(size);
      for (let i = 0; i < size; i += 1) body[i] = Math.floor(random() * 256);
      try {
        if (connection === undefined || connection.broken) {
          connection = await EchoConnection.open({ host, port: options.port, connectTimeoutMs: options.timeoutMs ?? 5000 });
          connections += 1;
        }
        sent += 1;
        const t0 = performance.now();
        const reply = await connection.request(`load-${index}-${sent}`, body, { timeoutMs: options.timeoutMs ?? 5000 });
        const latencyMs = performance.now() - t0;
        if (!sameBytes(reply, body)) throw Object.assign(new Error('echo mismatch'), { code: 'E_ECHO_MISMATCH' });
        ok += 1;
        total.record(latencyMs);
        interval.record(latencyMs);
      } catch (error) {
        fail((error as { code?: string }).code ?? 'E_UNKNOWN');
        connection?.close();
        connection = undefined;
        await sleep(10);
      }
      if (options.reconnectEvery !== undefined && options.reconnectEvery > 0 && sent % options.reconnectEvery === 0) {
        connection?.close();
        connection = undefined;
      }
      if ((options.thinkMs ?? 0) > 0) await sleep(options.thinkMs ?? 0);
    }
    connection?.close();
  }

  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  if (ticker !== undefined) {
    clearInterval(ticker);
    if (interval.count > 0 || Object.keys(intervalErrors).length > 0) flush(); // the remainder, unless empty
  }
  return { ok, errorCodes, latencies: total, connections };
}
// #endregion echo-load

/**
 * Opens `count` echo connections and holds them open, `batch` connects at a time.
 * @returns the open connections; close them with `close()`
 */
export async function openIdleClients(port: number, count: number, batch = 50): Promise<EchoConnection[]> {
  const open: EchoConnection[] = [];
  for (let first = 0; first < count; first += batch) {
    const size = Math.min(batch, count - first);
    open.push(...await Promise.all(Array.from({ length: size }, () => EchoConnection.open({ host: '127.0.0.1', port, connectTimeoutMs: 10_000 }))));
  }
  return open;
}

/** The four ways a churn cycle ends a connection, each a different path through the server. */
export const CHURN_KINDS = ['close-idle', 'echo-then-close', 'close-mid-frame', 'reset-mid-frame'] as const;

/** One of {@link CHURN_KINDS}. */
export type ChurnKind = (typeof CHURN_KINDS)[number];

/** Opens a raw socket; resolves once connected. */
function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
      socket.off('error', reject).on('error', () => {}); // later errors show up as 'close'
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the socket has closed, or after `ms`. */
function closed(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed && socket.closed) return resolve();
    const timer = setTimeout(resolve, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// #region churn
/**
 * One churn cycle: connect, then end the connection one of four ways.
 * - `close-idle`: FIN without sending anything
 * - `echo-then-close`: one request, wait for its reply, FIN
 * - `close-mid-frame`: half a frame, then FIN (the server logs E_FRAME_TRUNCATED)
 * - `reset-mid-frame`: half a frame, then RST (`resetAndDestroy`)
 */
async function churnCycle(port: number, kind: ChurnKind, id: string, closeWaitMs: number): Promise<void> {
  const socket = await openSocket(port);
  const frame = frameMessage({ type: 'echo', requestId: id, body: new TextEncoder().encode(id) });
  switch (kind) {
    case 'close-idle':
      socket.end();
      break;
    case 'echo-then-close':
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.once('close', () => resolve());
        socket.write(frame);
      });
      socket.end();
      break;
    case 'close-mid-frame':
      socket.end(frame.subarray(0, 7));
      break;
    case 'reset-mid-frame':
      socket.write(frame.subarray(0, 7));
      await sleep(1);
      socket.resetAndDestroy();
      break;
  }
  socket.resume(); // drain whatever the server sends, so our close is a clean one
  await closed(socket, closeWaitMs);
  socket.destroy();
}

/** Options of {@link runChurn}. */
export interface ChurnOptions {
  /** Connect/close cycles in all. */
  readonly cycles: number;
  /** Cycles run at once. Default 100. */
  readonly concurrency?: number;
  /** How long a cycle waits for the server to close its side before dropping the socket. Default 5000. */
  readonly closeWaitMs?: number;
}

/**
 * Connects and disconnects `cycles` times, `concurrency` cycles at a time, rotating
 * through {@link CHURN_KINDS}.
 * @returns cycles completed and failed (a refused or reset connect counts as failed)
 */
export async function runChurn(port: number, options: ChurnOptions): Promise<{ completed: number; failed: number; byKind: Record<ChurnKind, number> }> {
  const { cycles, concurrency = 100, closeWaitMs = 5000 } = options;
  let completed = 0;
  let failed = 0;
  const byKind = Object.fromEntries(CHURN_KINDS.map((k) => [k, 0])) as Record<ChurnKind, number>;
  for (let first = 0; first < cycles; first += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, cycles - first) }, (_, i) => first + i);
    await Promise.all(batch.map(async (n) => {
      const kind = CHURN_KINDS[n % CHURN_KINDS.length] as ChurnKind;
      try {
        await churnCycle(port, kind, `churn-${n}`, closeWaitMs);
        completed += 1;
        byKind[kind] += 1;
      } catch {
        failed += 1;
      }
    }));
  }
  return { completed, failed, byKind };
}
// #endregion churn

// #region slow-reader
/**
 * A client that sends echo requests as fast as the connection takes them and never
 * reads a reply: the server's replies pile up in the kernel's buffers, then in the
 * server's own queue for this client.
 */
export class SlowReader {
  readonly #socket: Socket;
  readonly #localPort: number;
  #sent = 0;
  #stopped = false;
  /** Resolves when the connection has closed, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#localPort = socket.localPort ?? 0;
    socket.pause(); // never read
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Connects to `127.0.0.1:port`. */
  static async open(port: number): Promise<SlowReader> {
    return new SlowReader(await openSocket(port));
  }

  /** The local port, which the server logs as the connection's `peer`. */
  get localPort(): number {
    return this.#localPort;
  }

  /** Request bytes handed to the kernel so far. */
  get sentBytes(): number {
    return this.#sent - this.#socket.writableLength;
  }

  /** True once the connection has closed. */
  get isClosed(): boolean {
    return this.#socket.closed;
  }

  /**
   * Sends requests with `bodyBytes`-byte bodies until `maxBytes` are sent, the
   * connection closes, {@link SlowReader.stop} is called, or no write has been taken
   * for `stallMs` (the server stopped reading us).
   * @returns the bytes handed to the kernel
   */
  async flood(options: { readonly bodyBytes: number; readonly maxBytes: number; readonly stallMs: number }): Promise<number> {
    const body = new Uint8Array(options.bodyBytes).fill(0x73);
    let n = 0;
    while (!this.#stopped && !this.#socket.destroyed && this.#sent < options.maxBytes) {
      n += 1;
      const frame = frameMessage({ type: 'echo', requestId: `slow-${n}`, body });
      this.#sent += frame.length;
      if (!this.#socket.write(frame)) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => this.#socket.once('drain', () => resolve(true))),
          this.closed.then(() => false),
          sleep(options.stallMs).then(() => false),
        ]);
        if (!drained) break;
      }
    }
    return this.sentBytes;
  }

  /** Stops a flood in progress. */
  stop(): void {
    this.#stopped = true;
  }

  /** Closes at once. */
  destroy(): void {
    this.#socket.destroy();
  }
}
// #endregion slow-reader
