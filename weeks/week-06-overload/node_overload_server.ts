/**
 * The overload server: week 2's frames on a `node:net` server, the task protocol on
 * top, CPU work handed to week 5's worker pool through the {@link OverloadController},
 * and three defences per connection:
 *
 * - **minimum progress** on the read side: a frame that trickles in below
 *   `progress.minBytes` per `progress.windowMs` gets the client cut with `E_SLOW_CLIENT`;
 * - **egress budget** on the write side: replies leave through a {@link TokenBucket},
 *   `socket.write()`'s return value is obeyed (a `false` stops writing until 'drain'),
 *   reading stops while too many replies wait, and a client that lets its queue pass
 *   `maxEgressBytes`, or sends no 'drain' for `noDrainMs`, is cut with `E_SLOW_CLIENT`;
 * - **a per-client request rate** (off unless `clientRate` is given): a second
 *   {@link TokenBucket}, one token per request, refuses a client that asks faster than
 *   its rate with `E_CLIENT_THROTTLED` and a retry hint, before its request reaches the
 *   shared queue, so one greedy client cannot fill the queue every client shares;
 * - **a connection cap** through `server.maxConnections`: Node closes the extra sockets
 *   itself and emits 'drop', which is counted.
 *
 * The adapter decides nothing the pure modules could decide: the ladder, the meter, the
 * bucket and the deadlines rule, and this file performs their verdicts on sockets.
 * @module
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import { FrameDecoder, formatAddress, listenError, preciseClock, type Logger, type NetAddress } from '../../lib/framing.ts';
import { LoopDelayMonitor } from '../../lib/server.ts';
import { OverloadController, type ControllerStats, type TaskRunner, type WorkOutcome } from './controller.ts';
import { deadlineAfter, deadlineError, stageEndMs, stageExpired, type RequestDeadline, type StageSplit } from './deadline.ts';
import { OVERLOAD_THRESHOLDS, type OverloadThresholds } from './ladder.ts';
import { DEFAULT_PROGRESS_RULE, ProgressMeter, type ProgressRule } from './progress.ts';
import type { AnswerListener, RequestGate } from './request_gate.ts';
import { encodeTaskAnswer, parseTaskRequest, type TaskAnswer } from './task_message.ts';
import { DEFAULT_EGRESS_RATE, TokenBucket, type EgressRate } from './token_bucket.ts';

/** Per-client limits on replies waiting to go out. */
export interface EgressLimits {
  /** Stop reading the client's requests while this many reply bytes wait (our queue plus the socket's). */
  readonly lowWatermarkBytes: number;
  /** A reply that would take the waiting bytes past this cuts the client instead. */
  readonly maxEgressBytes: number;
  /** After `write()` returns false, the most ms to wait for 'drain' before cutting the client. */
  readonly noDrainMs: number;
}

/** One client's request budget: a token bucket with one token per request. */
export interface ClientRate {
  /** Requests each client may send per second, sustained. */
  readonly perSec: number;
  /** Requests a client may send at once, on a full bucket. */
  readonly burst: number;
}

/** The defaults: pause at 128 KiB, cut past 1 MiB or after 5 s without a drain. */
export const DEFAULT_EGRESS_LIMITS: EgressLimits = { lowWatermarkBytes: 128 * 1024, maxEgressBytes: 1024 * 1024, noDrainMs: 5000 };

/** Options of {@link OverloadServer.listen}. */
export interface OverloadServerOptions {
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port; 0 lets the kernel choose. Default 0. */
  readonly port?: number;
  /** Runs the tasks: week 5's `WorkerPool`, started with {@link TASK_HANDLERS}. */
  readonly runner: TaskRunner;
  /** Tasks handed to the runner at once: its worker count. */
  readonly concurrency: number;
  /** Where records go. */
  readonly logger: Logger;
  /** The threshold table. Default {@link OVERLOAD_THRESHOLDS}. */
  readonly thresholds?: OverloadThresholds;
  /** The largest request frame payload, and the largest `fill` reply. Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** `server.maxConnections`: connections past it are closed by Node at once. Default 1000. */
  readonly maxClients?: number;
  /** The minimum-progress rule. Default 1 KiB per 2 s. */
  readonly progress?: ProgressRule;
  /** The egress token bucket. Default 8 MiB/s, 256 KiB burst. */
  readonly egressRate?: EgressRate;
  /** The egress queue limits. Default {@link DEFAULT_EGRESS_LIMITS}. */
  readonly egressLimits?: EgressLimits;
  /** Each client's request rate; requests past it are refused with `E_CLIENT_THROTTLED`. Default: no limit. */
  readonly clientRate?: ClientRate;
  /** Requests one client may have admitted and unanswered before its reading pauses. Default 64. */
  readonly maxInFlight?: number;
  /** Close a connection silent this long at a frame boundary with nothing in flight (ms). Default 30000. */
  readonly idleMs?: number;
  /** How often the ladder samples the queue without a new request (ms). Default 25. */
  readonly tickMs?: number;
  /** Log a `server stats` record this often; 0 for never. Default 0. */
  readonly statsIntervalMs?: number;
  /** Each deadline stage's share of a request's budget. Default: none, every stage checks the whole deadline. */
  readonly stageSplit?: StageSplit;
  /** Times deadlines, waits and windows. Default `preciseClock` (the workers' clock too). */
  readonly clock?: Clock;
  /**
   * Obey `socket.write()`'s return value (default true). False exists for one reason:
   * the chapter's break-it-on-purpose run and the gate's negative control, which show
   * what ignoring it costs. Never set it in a real server.
   */
  readonly respectBackpressure?: boolean;
  /**
   * Opens each request frame before it is parsed as a task (default: none, the frame
   * is the task). The signed node's envelope check plugs in here.
   */
  readonly gate?: RequestGate;
  /** Told about every answer queued for a client: for per-request logs and metrics. */
  readonly onAnswer?: AnswerListener;
}

/** The defaults of the options that have one. */
export const OVERLOAD_SERVER_DEFAULTS = {
  /** Largest request payload and `fill` reply. */
  maxFrameBytes: 64 * 1024,
  /** `server.maxConnections`. */
  maxClients: 1000,
  /** Admitted, unanswered requests per client before its reading pauses. */
  maxInFlight: 64,
  /** Idle close at a frame boundary. */
  idleMs: 30_000,
  /** Ladder tick. */
  tickMs: 25,
} as const;

/** Why a connection closed, as its close record says. */
export type OverloadCloseReason = 'peer_closed' | 'peer_reset' | 'idle' | 'slow_sender' | 'egress_cap' | 'no_drain' | 'bad_frame' | 'shutdown';

/** A snapshot of the server. */
export interface OverloadServerStats {
  /** Open connections. */
  readonly connections: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections Node dropped at `maxConnections`. */
  readonly droppedConnections: number;
  /** Connections closed, by reason. */
  readonly closedByReason: Readonly<Partial<Record<OverloadCloseReason, number>>>;
  /** Connections whose reading is paused now. */
  readonly paused: number;
  /** Reply bytes waiting over all connections now (our queues plus the sockets'). */
  readonly egressQueuedBytes: number;
  /** The most reply bytes any one connection had waiting, since start. */
  readonly maxEgressQueuedBytes: number;
  /** Replies dropped at the reply stage because egress held them past their deadline. */
  readonly egressExpired: number;
  /** Requests refused with `E_CLIENT_THROTTLED` because their client was past its rate. */
  readonly throttled: number;
  /** The controller's counters. */
  readonly controller: ControllerStats;
  /** The process's memory now. */
  readonly memory: {
    /** Resident set size, bytes. */
    readonly rssBytes: number;
    /** V8 heap in use, bytes. */
    readonly heapUsedBytes: number;
    /** ArrayBuffers and Buffers, bytes. */
    readonly arrayBuffersBytes: number;
  };
}

/** What a connection needs from its server. */
interface Shared {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly controller: OverloadController;
  readonly maxFrameBytes: number;
  readonly progress: ProgressRule;
  readonly egressRate: EgressRate;
  readonly clientRate: ClientRate | undefined;
  readonly egress: EgressLimits;
  readonly maxInFlight: number;
  readonly idleMs: number;
  readonly respectBackpressure: boolean;
  readonly stageSplit: StageSplit | undefined;
  readonly gate: RequestGate | undefined;
  readonly onAnswer: AnswerListener | undefined;
  released(connection: TaskConnection, reason: OverloadCloseReason): void;
  egressPeak(bytes: number): void;
  egressExpired(): void;
  throttled(): void;
}

type Timer = ReturnType<typeof setTimeout>;

/** A multi-client task server with an overload ladder, deadlines and slow-client defences. */
export class OverloadServer {
  readonly #server: Server;
  readonly #options: OverloadServerOptions;
  readonly #shared: Shared;
  readonly #controller: OverloadController;
  readonly #connections = new Set<TaskConnection>();
  readonly #closedByReason: Partial<Record<OverloadCloseReason, number>> = {};
  readonly #loopDelay = new LoopDelayMonitor();
  #accepted = 0;
  #droppedConnections = 0;
  #maxEgress = 0;
  #egressExpired = 0;
  #throttled = 0;
  #tick: Timer | undefined;
  #statsTimer: Timer | undefined;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, options: OverloadServerOptions) {
    this.#server = server;
    this.#options = options;
    const clock = options.clock ?? preciseClock;
    this.#controller = new OverloadController({
      runner: options.runner, concurrency: options.concurrency, clock, logger: options.logger,
      thresholds: options.thresholds ?? OVERLOAD_THRESHOLDS,
    });
    this.#shared = {
      clock,
      logger: options.logger,
      controller: this.#controller,
      maxFrameBytes: options.maxFrameBytes ?? OVERLOAD_SERVER_DEFAULTS.maxFrameBytes,
      progress: options.progress ?? DEFAULT_PROGRESS_RULE,
      egressRate: options.egressRate ?? DEFAULT_EGRESS_RATE,
      clientRate: options.clientRate,
      egress: options.egressLimits ?? DEFAULT_EGRESS_LIMITS,
      maxInFlight: options.maxInFlight ?? OVERLOAD_SERVER_DEFAULTS.maxInFlight,
      idleMs: options.idleMs ?? OVERLOAD_SERVER_DEFAULTS.idleMs,
      respectBackpressure: options.respectBackpressure ?? true,
      stageSplit: options.stageSplit,
      gate: options.gate,
      onAnswer: options.onAnswer,
      released: (connection, reason) => {
        this.#connections.delete(connection);
        this.#closedByReason[reason] = (this.#closedByReason[reason] ?? 0) + 1;
      },
      egressPeak: (bytes) => (this.#maxEgress = Math.max(this.#maxEgress, bytes)),
      egressExpired: () => (this.#egressExpired += 1),
      throttled: () => (this.#throttled += 1),
    };
  }

  /**
   * Binds and starts serving.
   * @throws {@link CivicError} `E_NET_ADDR_IN_USE`, `E_NET_PERMISSION` or `E_NET_BAD_ADDRESS` when binding fails
   */
  static async listen(options: OverloadServerOptions): Promise<OverloadServer> {
    const server = createServer({ noDelay: true, pauseOnConnect: false });
    // #region max-connections
    // Node's own cap: past it, the kernel's accepted socket is closed at once and
    // 'drop' fires. No reply is possible (nothing is read or written), which is
    // cheaper under a flood than week 3's E_SERVER_BUSY answer.
    server.maxConnections = options.maxClients ?? OVERLOAD_SERVER_DEFAULTS.maxClients;
    // #endregion max-connections
    const self = new OverloadServer(server, options);
    server.on('connection', (socket) => self.#accept(socket));
    server.on('drop', () => (self.#droppedConnections += 1));
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(listenError(error, { host, port })));
      server.listen({ host, port }, () => resolve());
    });
    self.#loopDelay.start();
    self.#tick = setInterval(() => self.#controller.tick(), options.tickMs ?? OVERLOAD_SERVER_DEFAULTS.tickMs);
    self.#tick.unref();
    const every = options.statsIntervalMs ?? 0;
    if (every > 0) {
      self.#statsTimer = setInterval(() => self.#logStats(), every);
      self.#statsTimer.unref();
    }
    options.logger.info('server listening', { fields: { result: 'listening', address: formatAddress(self.address), max_clients: server.maxConnections } });
    return self;
  }

  /** The bound address. */
  get address(): NetAddress {
    const bound = this.#server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  /** A snapshot of connections, queues, the controller and memory. */
  stats(): OverloadServerStats {
    let paused = 0;
    let egressQueuedBytes = 0;
    for (const connection of this.#connections) {
      if (connection.paused) paused += 1;
      egressQueuedBytes += connection.egressBytes;
    }
    const memory = process.memoryUsage();
    return {
      connections: this.#connections.size, accepted: this.#accepted, droppedConnections: this.#droppedConnections,
      closedByReason: { ...this.#closedByReason }, paused, egressQueuedBytes, maxEgressQueuedBytes: this.#maxEgress,
      egressExpired: this.#egressExpired, throttled: this.#throttled, controller: this.#controller.stats(),
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, arrayBuffersBytes: memory.arrayBuffers },
    };
  }

  // #region stats-record
  /** One `server stats` record. */
  #logStats(): void {
    const s = this.stats();
    const c = s.controller;
    const delay = this.#loopDelay.interval();
    this.#options.logger.info('server stats', {
      fields: {
        result: 'stats', ladder: c.level, depth: c.depth, max_depth: c.maxDepth, running: c.running,
        offered: c.offered, admitted: c.admitted, completed: c.completed,
        refused_overloaded: c.refused.E_OVERLOADED ?? 0, refused_shed: c.refused.E_SHED_LOW_PRIORITY ?? 0, refused_throttled: s.throttled,
        dropped_admission: c.dropped.admission ?? 0, dropped_queue: c.dropped.queue ?? 0,
        dropped_pool: c.dropped.pool ?? 0, dropped_reply: (c.dropped.reply ?? 0) + s.egressExpired,
        level_changes: c.levelChanges, connections: s.connections, accepted: s.accepted,
        dropped_connections: s.droppedConnections, paused: s.paused,
        cut_slow_sender: s.closedByReason.slow_sender ?? 0, cut_egress_cap: s.closedByReason.egress_cap ?? 0,
        cut_no_drain: s.closedByReason.no_drain ?? 0, egress_queued_bytes: s.egressQueuedBytes,
        max_egress_queued_bytes: s.maxEgressQueuedBytes, loop_delay_p99_ms: delay.p99Ms, loop_delay_max_ms: delay.maxMs,
        rss_bytes: s.memory.rssBytes, heap_used_bytes: s.memory.heapUsedBytes, array_buffers_bytes: s.memory.arrayBuffersBytes,
      },
    });
  }
  // #endregion stats-record

  /**
   * Stops accepting, lets admitted work finish and its replies go out (up to
   * `graceMs`), then cuts what is left. Calling it twice returns the first promise.
   */
  close(options: { reason: string; graceMs: number }): Promise<void> {
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  async #shutdown({ reason, graceMs }: { reason: string; graceMs: number }): Promise<void> {
    const logger = this.#options.logger;
    logger.info('server stopping', { fields: { result: 'stopping', reason, connections: this.#connections.size, grace_ms: graceMs } });
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) connection.stopReading();
    let timer: Timer | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#controller.idle().then(() => Promise.all([...this.#connections].map((c) => c.flushed()))), grace]);
    for (const connection of this.#connections) connection.close('shutdown');
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    clearInterval(this.#tick);
    clearInterval(this.#statsTimer);
    this.#loopDelay.stop();
    const s = this.stats();
    logger.info('server stopped', {
      fields: {
        result: 'stopped', reason, accepted: s.accepted, offered: s.controller.offered, completed: s.controller.completed,
        level_changes: s.controller.levelChanges, max_depth: s.controller.maxDepth, rss_bytes: s.memory.rssBytes,
      },
    });
  }

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    this.#accepted += 1;
    this.#connections.add(new TaskConnection(socket, `c${this.#accepted}`, this.#shared));
  }
}

/** One reply waiting to go out. */
interface Outgoing {
  readonly frame: Uint8Array;
  readonly requestId: string;
  /** Present for a result: checked once more just before the write. */
  readonly deadline?: RequestDeadline;
}

/** One client: a decoder, a progress meter, a token bucket and an egress queue. */
class TaskConnection {
  readonly #socket: Socket;
  readonly #shared: Shared;
  readonly #log: Logger;
  readonly #decoder: FrameDecoder;
  readonly #bucket: TokenBucket;
  /** The request budget, one token per request; undefined without a per-client rate. */
  readonly #requests: TokenBucket | undefined;
  #meter: ProgressMeter;
  /** When the first byte of the open frame arrived. */
  #frameStartedMs = 0;
  #inFlight = 0;
  /** Whole frames decoded while the client was at its in-flight limit: at most one chunk's worth. */
  #backlog: { payload: Uint8Array; startedMs: number }[] = [];
  #admitting = false;
  #egress: Outgoing[] = [];
  #egressQueued = 0;
  /** `write()` returned false: nothing more is written until 'drain'. */
  #blocked = false;
  #paused = false;
  #stopped = false;
  #closeReason: OverloadCloseReason | undefined;
  #progressTimer: Timer | undefined;
  #bucketTimer: Timer | undefined;
  #drainTimer: Timer | undefined;
  #onFlushed: (() => void) | undefined;

  constructor(socket: Socket, id: string, shared: Shared) {
    this.#socket = socket;
    this.#shared = shared;
    this.#log = shared.logger.child({ conn: id, peer: formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }) });
    this.#decoder = new FrameDecoder({ maxFrameBytes: shared.maxFrameBytes });
    this.#meter = new ProgressMeter(shared.progress);
    this.#bucket = new TokenBucket(shared.egressRate, shared.clock.now());
    const rate = shared.clientRate;
    this.#requests = rate === undefined ? undefined : new TokenBucket({ ratePerSec: rate.perSec, burstBytes: rate.burst }, shared.clock.now());
    socket.setTimeout(shared.idleMs);
    socket.on('timeout', () => {
      // The idle timer only judges silence between frames; inside one the progress rule rules.
      if (this.#decoder.pendingBytes === 0 && this.#inFlight === 0 && this.#egress.length === 0) this.close('idle');
    });
    socket.on('data', (chunk: Uint8Array) => this.#onData(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('end', () => this.close('peer_closed'));
    socket.on('error', () => this.close('peer_reset'));
    socket.on('close', () => this.#onClose());
  }

  /** Reading is paused now. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Reply bytes waiting: our queue plus the socket's buffer. */
  get egressBytes(): number {
    return this.#egressQueued + this.#socket.writableLength;
  }

  /** Shutdown: read no more requests. */
  stopReading(): void {
    this.#stopped = true;
    this.#clearProgress();
    this.#socket.pause();
  }

  /** Resolves when every answer owed has been written. */
  flushed(): Promise<void> {
    this.#backlog = []; // shutdown: frames not yet offered are not answered
    if (this.#inFlight === 0 && this.#egress.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#onFlushed = resolve));
  }

  // #region on-data
  #onData(chunk: Uint8Array): void {
    if (this.#closeReason !== undefined) return;
    const nowMs = this.#shared.clock.now();
    const wasMidFrame = this.#decoder.pendingBytes > 0;
    const firstStartedMs = wasMidFrame ? this.#frameStartedMs : nowMs;
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      const code = isCivicError(error) ? error.code : 'E_FRAME_OVERSIZE';
      this.#cut('bad_frame', code, encodeTaskAnswer({ type: 'error', requestId: 'none', errorCode: code, message: String((error as Error).message) }));
      return;
    }
    const midFrame = this.#decoder.pendingBytes > 0;
    if (frames.length > 0 || !wasMidFrame) this.#frameStartedMs = nowMs; // a new frame began in this chunk
    this.#meter.onBytes(chunk.length, midFrame, nowMs);
    this.#armProgress();
    for (const [i, frame] of frames.entries()) this.#backlog.push({ payload: frame, startedMs: i === 0 ? firstStartedMs : nowMs });
    this.#admitBacklog();
  }

  /** Offers backlogged frames while the client is under its in-flight limit (one chunk may hold hundreds). */
  #admitBacklog(): void {
    if (this.#admitting) return; // a refusal answered inside the loop comes back here: the loop goes on
    this.#admitting = true;
    while (
      this.#backlog.length > 0 && this.#closeReason === undefined && this.#inFlight < this.#shared.maxInFlight
      && this.egressBytes < this.#shared.egress.lowWatermarkBytes
    ) {
      const next = this.#backlog.shift() as { payload: Uint8Array; startedMs: number };
      this.#request(next.payload, next.startedMs);
    }
    this.#admitting = false;
    this.#flow();
  }
  // #endregion on-data

  // #region request
  /** One request frame: open it (if gated), parse it, give it its deadline, offer it to the controller. */
  #request(payload: Uint8Array, startedMs: number): void {
    if (payload.length === 0) return; // an empty frame is a keep-alive, as in weeks 2 and 3
    let request;
    let claimed: string | undefined;
    let authorize: (() => Promise<void>) | undefined;
    try {
      let body = payload;
      if (this.#shared.gate !== undefined) {
        const opened = this.#shared.gate.tryOpen(payload);
        claimed = opened.requestId;
        if (!opened.ok) return this.#refuse(opened.requestId, opened.errorCode, opened.message, startedMs);
        body = opened.payload;
        authorize = opened.authorize;
      }
      request = parseTaskRequest(body);
      if (claimed !== undefined && request.requestId !== claimed) {
        throw Object.assign(new Error(`Cannot run task: its request_id ${request.requestId} differs from the frame's ${claimed}`), { code: 'E_MESSAGE_MALFORMED' });
      }
      if (request.task === 'fill' && request.arg > this.#shared.maxFrameBytes) {
        throw Object.assign(new Error(`Cannot run fill: arg ${request.arg} exceeds the largest reply, ${this.#shared.maxFrameBytes} bytes`), { code: 'E_MESSAGE_MALFORMED' });
      }
    } catch (error) {
      const errorCode = isCivicError(error) ? error.code : 'E_MESSAGE_MALFORMED';
      return this.#refuse(claimed ?? request?.requestId ?? 'none', errorCode, (error as Error).message, startedMs);
    }
    const { requestId } = request;
    // #region client-rate
    // One token per request: a client past its rate is refused here, before the shared
    // queue, so its excess never counts against the other clients' depth.
    const waitMs = this.#requests?.take(1, this.#shared.clock.now()) ?? 0;
    if (waitMs > 0) {
      this.#shared.throttled();
      const { perSec, burst } = this.#shared.clientRate as ClientRate;
      const message = `Cannot accept request: this connection is past its rate of ${perSec} requests a second (burst ${burst}); retry after ${waitMs} ms`;
      return this.#refuse(requestId, 'E_CLIENT_THROTTLED', message, startedMs, waitMs);
    }
    // #endregion client-rate
    const deadline = deadlineAfter(startedMs, request.timeoutMs, this.#shared.stageSplit);
    this.#inFlight += 1;
    this.#shared.controller.offer(
      { requestId, task: request.task, arg: request.arg, priority: request.priority, deadline, body: request.body, ...(authorize === undefined ? {} : { authorize }) },
      (outcome) => this.#answered(requestId, outcome, deadline),
    );
  }
  // #endregion request

  /** Answers a frame refused before admission (with a retry hint, for a throttled client). */
  #refuse(requestId: string, errorCode: string, message: string, startedMs: number, retryAfterMs?: number): void {
    this.#send({ frame: encodeTaskAnswer({ type: 'error', requestId, errorCode, message, retryAfterMs }), requestId });
    this.#shared.onAnswer?.({ requestId, ok: false, errorCode, latencyMs: this.#shared.clock.now() - startedMs, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }

  #answered(requestId: string, outcome: WorkOutcome, deadline: RequestDeadline): void {
    this.#inFlight -= 1;
    if (this.#closeReason !== undefined) return;
    const answer: TaskAnswer = outcome.ok
      ? { type: 'task_reply', requestId, body: outcome.body }
      : { type: 'error', requestId, errorCode: outcome.errorCode, message: outcome.message, retryAfterMs: outcome.retryAfterMs, stage: outcome.stage };
    this.#send({ frame: encodeTaskAnswer(answer), requestId, ...(outcome.ok ? { deadline } : {}) });
    this.#shared.onAnswer?.({
      requestId, ok: outcome.ok, latencyMs: this.#shared.clock.now() - deadline.startedMs,
      ...(outcome.ok ? {} : { errorCode: outcome.errorCode, ...(outcome.retryAfterMs === undefined ? {} : { retryAfterMs: outcome.retryAfterMs }), ...(outcome.stage === undefined ? {} : { stage: outcome.stage }) }),
    });
    this.#admitBacklog();
  }

  // #region egress
  /** Queues an answer, unless that would take the waiting bytes past the cap. */
  #send(out: Outgoing): void {
    if (this.egressBytes + out.frame.length > this.#shared.egress.maxEgressBytes) {
      this.#cut('egress_cap', 'E_SLOW_CLIENT');
      return;
    }
    this.#egress.push(out);
    this.#egressQueued += out.frame.length;
    this.#shared.egressPeak(this.egressBytes);
    this.#pump();
  }

  /** Writes queued answers while the bucket has tokens and the socket takes them. */
  #pump(): void {
    while (this.#egress.length > 0 && !this.#blocked && this.#closeReason === undefined && this.#bucketTimer === undefined) {
      const head = this.#egress[0] as Outgoing;
      const nowMs = this.#shared.clock.now();
      const waitMs = this.#bucket.take(head.frame.length, nowMs);
      if (waitMs > 0) {
        this.#bucketTimer = setTimeout(() => {
          this.#bucketTimer = undefined;
          this.#pump();
        }, waitMs);
        return;
      }
      this.#egress.shift();
      this.#egressQueued -= head.frame.length;
      let frame = head.frame;
      if (head.deadline !== undefined && stageExpired(head.deadline, 'reply', nowMs)) {
        // Reply stage, at the last moment: the bucket held this result past its deadline.
        this.#shared.egressExpired();
        const error = deadlineError(head.deadline, nowMs, 'reply');
        this.#log.warn('request dropped', {
          requestId: head.requestId,
          fields: { result: 'dropped', stage: 'reply', error_code: error.code, budget_ms: head.deadline.budgetMs, late_ms: Math.round(nowMs - stageEndMs(head.deadline, 'reply')) },
        });
        frame = encodeTaskAnswer({ type: 'error', requestId: head.requestId, errorCode: error.code, message: error.message, stage: 'reply' });
      }
      // The return value is the whole point: false means the kernel buffer is full and
      // Node is now holding bytes in memory for this client. Stop until 'drain'.
      if (!this.#socket.write(frame) && this.#shared.respectBackpressure) {
        this.#blocked = true;
        this.#drainTimer = setTimeout(() => this.#cut('no_drain', 'E_SLOW_CLIENT'), this.#shared.egress.noDrainMs);
      }
    }
    this.#admitBacklog();
    if (this.#egress.length === 0 && this.#inFlight === 0 && this.#backlog.length === 0) {
      this.#onFlushed?.();
      this.#onFlushed = undefined;
    }
  }

  #onDrain(): void {
    this.#blocked = false;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#pump();
  }
  // #endregion egress

  // #region flow
  /** Pauses reading while too much is owed to this client; resumes when it is not. */
  #flow(): void {
    if (this.#closeReason !== undefined || this.#stopped) return;
    const owe = this.#inFlight >= this.#shared.maxInFlight || this.#backlog.length > 0 || this.egressBytes >= this.#shared.egress.lowWatermarkBytes;
    if (owe && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
      this.#clearProgress(); // our pause, not the client's slowness: the rule waits
    } else if (!owe && this.#paused) {
      this.#paused = false;
      this.#meter = new ProgressMeter(this.#shared.progress); // a fresh window from now
      this.#meter.onBytes(0, this.#decoder.pendingBytes > 0, this.#shared.clock.now());
      this.#armProgress();
      this.#socket.resume();
    }
  }
  // #endregion flow

  // #region progress-timer
  /** Arms the timer for the end of the current progress window, if a frame is open. */
  #armProgress(): void {
    this.#clearProgress();
    if (this.#shared.progress.minBytes === 0 || this.#paused || this.#stopped) return;
    const verdict = this.#meter.check(this.#shared.clock.now());
    if (verdict.verdict === 'idle') return;
    if (verdict.verdict === 'slow') return this.#slow(verdict.bytes);
    this.#progressTimer = setTimeout(() => {
      this.#progressTimer = undefined;
      this.#armProgress(); // judges the window that just ended, or re-arms for the next one
    }, Math.max(1, Math.ceil(verdict.checkAtMs - this.#shared.clock.now())));
  }
  // #endregion progress-timer

  #clearProgress(): void {
    clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
  }

  #slow(bytes: number): void {
    const { windowMs, minBytes } = this.#shared.progress;
    const message = `Cannot keep connection: ${bytes} bytes of the open frame arrived in ${windowMs} ms, below the minimum of ${minBytes}`;
    this.#cut('slow_sender', 'E_SLOW_CLIENT', encodeTaskAnswer({ type: 'error', requestId: 'none', errorCode: 'E_SLOW_CLIENT', message }), { window_bytes: bytes });
  }

  // #region cut
  /** Closes on a defence: one close record, an error answer if one can still go out, FIN, then a hard close. */
  #cut(reason: OverloadCloseReason, errorCode: string, last?: Uint8Array, fields: Record<string, number> = {}): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#log.warn('connection closed', {
      fields: { result: 'closed', reason, error_code: errorCode, in_flight: this.#inFlight, egress_bytes: this.egressBytes, pending_bytes: this.#decoder.pendingBytes, ...fields },
    });
    this.#stopTimers();
    this.#socket.pause();
    if (last !== undefined && !this.#blocked) this.#socket.end(last);
    // A client that reads nothing gets nothing more: drop what we hold for it now.
    if (reason === 'egress_cap' || reason === 'no_drain') this.#socket.destroy();
    else setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.#egress = [];
    this.#egressQueued = 0;
    this.#backlog = [];
  }
  // #endregion cut

  /** Closes for a reason that is nobody's fault (peer FIN, reset, idle, shutdown). */
  close(reason: OverloadCloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    const level = reason === 'peer_reset' ? 'warn' : 'debug';
    this.#log.log(level, 'connection closed', { fields: { result: 'closed', reason, in_flight: this.#inFlight, pending_bytes: this.#decoder.pendingBytes } });
    this.#stopTimers();
    if (reason === 'peer_reset') this.#socket.destroy();
    else {
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
  }

  #stopTimers(): void {
    this.#clearProgress();
    clearTimeout(this.#bucketTimer);
    clearTimeout(this.#drainTimer);
    this.#bucketTimer = undefined;
    this.#drainTimer = undefined;
  }

  #onClose(): void {
    if (this.#closeReason === undefined) this.close('peer_reset');
    this.#stopTimers();
    this.#egress = [];
    this.#egressQueued = 0;
    this.#onFlushed?.();
    this.#onFlushed = undefined;
    this.#shared.released(this, this.#closeReason ?? 'peer_reset');
  }
}
