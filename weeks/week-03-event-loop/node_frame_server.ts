/**
 * The multi-client frame server: Node's `net` module driving the pure connection
 * state machine of `connection.ts`. One thread, one event loop, any number of
 * clients: every socket event becomes a {@link ConnectionEvent}, and the actions that
 * come back are performed in order. The adapter decides nothing the state machine
 * could decide.
 *
 * What it adds around the state machine: a registry of open connections, a client
 * limit (`E_SERVER_BUSY`), one timer per connection, the request handler, periodic
 * `server stats` records (event-loop delay measured in this process, memory, queues)
 * and a graceful shutdown.
 * @module
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import {
  ActivityTracker, DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT_POLICY, FrameDecoder, MAX_FRAME_BYTES_LIMIT,
  connectError, formatAddress, frameMessage, listenError, preciseClock,
  type Logger, type NetAddress, type TimeoutPolicy,
} from '../../lib/framing.ts';
import {
  DEFAULT_OUTBOUND_LIMITS, checkOutboundLimits, connectionStep, initialConnectionState, timerFor,
  type ConnectionCloseReason, type ConnectionAction, type ConnectionEvent, type ConnectionState, type OutboundLimits, type TimerKind,
} from './connection.ts';
import { echoHandler, errorReply, type FrameHandler, type HandlerResult } from './handler.ts';
import { LoopDelayMonitor, type LoopDelaySummary } from './node_loop_delay.ts';

/** Options of {@link FrameServer.listen}. */
export interface FrameServerOptions {
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port; 0 lets the kernel choose a free one. Default 0. */
  readonly port?: number;
  /** The largest frame payload accepted. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Connections served at once; one more is answered `E_SERVER_BUSY` and closed. Default 1000. */
  readonly maxClients?: number;
  /** When to pause reading a client, and the most reply bytes held for it. Default 64 KiB and 4 MiB. */
  readonly limits?: OutboundLimits;
  /** How long a client may keep reading paused (queue at the watermark, no 'drain') before it is cut. Default 5000. */
  readonly slowReaderMs?: number;
  /** Idle and read timeouts, as in week 2. Default 30 s and 10 s. */
  readonly timeouts?: TimeoutPolicy;
  /** How long a closing connection may wait for the peer's FIN before it is dropped. Default 2000. */
  readonly lingerMs?: number;
  /** Answers each request frame. Default {@link echoHandler}. */
  readonly handler?: FrameHandler;
  /** Where the server's records go; give it a `node_id` field. */
  readonly logger: Logger;
  /** Measures latency and timeouts. Default `preciseClock`. */
  readonly clock?: Clock;
  /** Log a `server stats` record this often; 0 for never. Default 0. */
  readonly statsIntervalMs?: number;
}

/** The defaults of the options that have one. */
export const FRAME_SERVER_DEFAULTS = {
  /** Connections served at once. */
  maxClients: 1000,
  /** How long a client may keep reading paused before it is cut. */
  slowReaderMs: 5000,
  /** How long a closing connection waits for the peer's FIN. */
  lingerMs: 2000,
} as const;

/** Options of {@link FrameServer.close}. */
export interface ShutdownOptions {
  /** Logged as the reason the server stopped, e.g. `sigterm`. */
  readonly reason: string;
  /** How long frames already begun may take to finish (and their replies to flush) before connections are cut. */
  readonly graceMs: number;
}

/** How a shutdown went. */
export interface ShutdownResult {
  /** Connections that closed by themselves within the grace period. */
  readonly drained: number;
  /** Connections cut when the grace period ran out. */
  readonly forced: number;
}

/** A snapshot of the server, as its `server stats` records log it. */
export interface ServerStats {
  /** Connections in the registry now. */
  readonly connections: number;
  /** Connections accepted since start (refused ones not included). */
  readonly accepted: number;
  /** Connections refused with `E_SERVER_BUSY`. */
  readonly refusedBusy: number;
  /** Connections closed and released, by close reason. */
  readonly closedByReason: Readonly<Partial<Record<ConnectionCloseReason, number>>>;
  /** Requests answered (keep-alives not counted). */
  readonly requests: number;
  /** Connections whose reading is paused now. */
  readonly paused: number;
  /** Reply bytes queued over all connections now. */
  readonly queuedBytes: number;
  /** The largest queue any connection has had after a write, since start. */
  readonly maxQueuedBytes: number;
  /** Events the state machine refused: each one is a bug in this adapter, and should stay 0. */
  readonly refusedEvents: number;
  /** Event-loop delay since start. */
  readonly loopDelay: LoopDelaySummary;
  /** The process's memory now, bytes. */
  readonly memory: {
    /** Resident set size. */
    readonly rssBytes: number;
    /** V8 heap in use. */
    readonly heapUsedBytes: number;
    /** Memory of ArrayBuffers and Buffers (socket buffers live here), garbage not yet collected included. */
    readonly arrayBuffersBytes: number;
  };
}

/** What a connection needs from its server. */
interface ServerContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly handler: FrameHandler;
  readonly maxFrameBytes: number;
  readonly limits: OutboundLimits;
  readonly timeouts: TimeoutPolicy;
  readonly slowReaderMs: number;
  readonly lingerMs: number;
  /** The connection closed: drop it from the registry. */
  release(connection: ServerConnection, reason: ConnectionCloseReason | undefined): void;
  /** The state machine refused an event: count it and log it. */
  refused(connection: ServerConnection, event: ConnectionEvent, why: string): void;
  /** A request was answered. */
  answered(): void;
  /** A connection's queue after a write, for the server-wide maximum. */
  queued(bytes: number): void;
}

/** The type of `setTimeout`'s handle, without naming Node's timer types. */
type Timer = ReturnType<typeof setTimeout>;

/** A multi-client TCP server for length-prefixed frames, with per-client buffer limits. */
export class FrameServer {
  readonly #server: Server;
  readonly #options: FrameServerOptions;
  readonly #context: ServerContext;
  readonly #registry = new Map<string, ServerConnection>();
  readonly #refusedSockets = new Set<Socket>();
  readonly #loopDelay = new LoopDelayMonitor();
  readonly #maxClients: number;
  readonly #closedByReason: Partial<Record<ConnectionCloseReason, number>> = {};
  #statsTimer: Timer | undefined;
  #serial = 0;
  #refusedBusy = 0;
  #requests = 0;
  #maxQueuedBytes = 0;
  #refusedEvents = 0;
  #closing: Promise<ShutdownResult> | undefined;
  /** Called when the registry becomes empty, while a shutdown waits for it. */
  #onEmpty: (() => void) | undefined;

  private constructor(server: Server, options: FrameServerOptions) {
    this.#server = server;
    this.#options = options;
    this.#maxClients = options.maxClients ?? FRAME_SERVER_DEFAULTS.maxClients;
    this.#context = {
      clock: options.clock ?? preciseClock,
      logger: options.logger,
      handler: options.handler ?? echoHandler(),
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      limits: options.limits ?? DEFAULT_OUTBOUND_LIMITS,
      timeouts: options.timeouts ?? DEFAULT_TIMEOUT_POLICY,
      slowReaderMs: options.slowReaderMs ?? FRAME_SERVER_DEFAULTS.slowReaderMs,
      lingerMs: options.lingerMs ?? FRAME_SERVER_DEFAULTS.lingerMs,
      release: (connection, reason) => {
        this.#registry.delete(connection.id);
        if (reason !== undefined) this.#closedByReason[reason] = (this.#closedByReason[reason] ?? 0) + 1;
        if (this.#registry.size === 0) this.#onEmpty?.();
      },
      refused: (connection, event, why) => {
        this.#refusedEvents += 1;
        options.logger.error('connection event refused', {
          fields: { conn: connection.id, event: event.type, phase: connection.phase, detail: why, error_code: 'E_SERVER_STATE' },
        });
      },
      answered: () => {
        this.#requests += 1;
      },
      queued: (bytes) => {
        if (bytes > this.#maxQueuedBytes) this.#maxQueuedBytes = bytes;
      },
    };
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (error) => options.logger.error('server error', { fields: { result: 'error', detail: String(error) } }));
  }

  // #region listen
  /**
   * Binds the address and starts serving.
   * @param options - address, limits, timeouts, handler, logger
   * @returns the listening server
   * @throws {@link CivicError} `E_NET_ADDR_IN_USE`, `E_NET_PERMISSION` or `E_NET_BAD_ADDRESS`
   *   (nothing is left open); RangeError for limits that fail {@link checkOutboundLimits}
   */
  static async listen(options: FrameServerOptions): Promise<FrameServer> {
    const limits = options.limits ?? DEFAULT_OUTBOUND_LIMITS;
    checkOutboundLimits(limits);
    const address = { host: options.host ?? '127.0.0.1', port: options.port ?? 0 };
    // The sockets' high-water mark is the low watermark, so write() returns false (and
    // 'drain' follows) exactly when the state machine pauses: both compare the same
    // writableLength with the same number.
    const server = createServer({ highWaterMark: limits.lowWatermarkBytes, noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address.host, port: address.port, backlog: 1024 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      server.close();
      throw listenError(error, address);
    }
    const frameServer = new FrameServer(server, options);
    frameServer.#start();
    return frameServer;
  }
  // #endregion listen

  #start(): void {
    this.#loopDelay.start();
    const interval = this.#options.statsIntervalMs ?? 0;
    if (interval > 0) {
      this.#statsTimer = setInterval(() => this.#logStats(), interval);
      this.#statsTimer.unref();
    }
    const { limits, maxFrameBytes, slowReaderMs } = this.#context;
    this.#options.logger.info('server listening', {
      fields: {
        result: 'listening', address: formatAddress(this.address), max_clients: this.#maxClients, max_frame_bytes: maxFrameBytes,
        low_watermark_bytes: limits.lowWatermarkBytes, max_outbound_bytes: limits.maxOutboundBytes, slow_reader_ms: slowReaderMs,
      },
    });
  }

  /** The bound address: with port 0, the port the kernel chose. */
  get address(): NetAddress {
    const bound = this.#server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  /** Connections in the registry right now. */
  get connectionCount(): number {
    return this.#registry.size;
  }

  /** A snapshot of the counters, queues, loop delay and memory. */
  stats(): ServerStats {
    let paused = 0;
    let queuedBytes = 0;
    for (const connection of this.#registry.values()) {
      if (connection.phase === 'writing') paused += 1;
      queuedBytes += connection.queuedBytes;
    }
    const memory = process.memoryUsage();
    return {
      connections: this.#registry.size,
      accepted: this.#serial,
      refusedBusy: this.#refusedBusy,
      closedByReason: { ...this.#closedByReason },
      requests: this.#requests,
      paused,
      queuedBytes,
      maxQueuedBytes: this.#maxQueuedBytes,
      refusedEvents: this.#refusedEvents,
      loopDelay: this.#loopDelay.total(),
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, arrayBuffersBytes: memory.arrayBuffers },
    };
  }

  // #region stats-record
  /** One `server stats` record: the loop delay of the last interval, and everything else now. */
  #logStats(): void {
    const stats = this.stats();
    const delay = this.#loopDelay.interval();
    this.#options.logger.info('server stats', {
      fields: {
        result: 'stats', connections: stats.connections, accepted: stats.accepted, refused_busy: stats.refusedBusy,
        requests: stats.requests, paused: stats.paused, queued_bytes: stats.queuedBytes, max_queued_bytes: stats.maxQueuedBytes,
        refused_events: stats.refusedEvents, loop_delay_p50_ms: delay.p50Ms, loop_delay_p99_ms: delay.p99Ms,
        loop_delay_max_ms: delay.maxMs, rss_bytes: stats.memory.rssBytes, heap_used_bytes: stats.memory.heapUsedBytes,
        array_buffers_bytes: stats.memory.arrayBuffersBytes,
      },
    });
  }
  // #endregion stats-record

  #accept(socket: Socket): void {
    if (this.#closing === undefined && this.#registry.size >= this.#maxClients) {
      this.#refuseBusy(socket);
      return;
    }
    this.#serial += 1;
    const connection = new ServerConnection(socket, `c${this.#serial}`, this.#context);
    this.#registry.set(connection.id, connection);
    if (this.#closing !== undefined) connection.shutdown(); // accepted just before close(): drain at once
  }

  // #region refuse-busy
  /** Over the client limit: one error reply, FIN, and a short linger; nothing is read. */
  #refuseBusy(socket: Socket): void {
    this.#refusedBusy += 1;
    const peer = formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    this.#options.logger.warn('connection refused', {
      fields: { result: 'refused', reason: 'max_clients', error_code: 'E_SERVER_BUSY', peer, max_clients: this.#maxClients },
    });
    const reply = errorReply('none', 'E_SERVER_BUSY', `Cannot serve connection: ${this.#maxClients} clients already connected`);
    this.#refusedSockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.#refusedSockets.delete(socket));
    socket.end(reply.frames[0] as Uint8Array);
    socket.resume(); // read and drop, so unread input does not turn the FIN into a RST
    setTimeout(() => socket.destroy(), this.#context.lingerMs).unref();
  }
  // #endregion refuse-busy

  // #region shutdown
  /**
   * Shuts down: stops accepting, closes connections at a frame boundary at once (after
   * their queued replies), lets those inside a frame finish it and get the reply, and
   * cuts whatever is still open when the grace period ends. Calling it twice returns the
   * first call's promise.
   * @param options - the reason to log and the grace period
   * @returns how many connections drained and how many were cut
   */
  close(options: ShutdownOptions): Promise<ShutdownResult> {
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  async #shutdown({ reason, graceMs }: ShutdownOptions): Promise<ShutdownResult> {
    const logger = this.#options.logger;
    logger.info('server stopping', { fields: { result: 'stopping', reason, connections: this.#registry.size, grace_ms: graceMs } });
    const open = this.#registry.size;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve())); // no new connections
    for (const connection of this.#registry.values()) connection.shutdown();
    for (const socket of this.#refusedSockets) socket.destroy();
    let forced = 0;
    const grace = setTimeout(() => {
      for (const connection of this.#registry.values()) forced += connection.cut();
    }, graceMs);
    await closed; // the listener is closed and every socket is gone…
    // …but a socket's own 'close' (which releases it) can come a tick after the server's.
    if (this.#registry.size > 0) await new Promise<void>((resolve) => (this.#onEmpty = resolve));
    clearTimeout(grace);
    clearInterval(this.#statsTimer);
    this.#loopDelay.stop();
    const stats = this.stats();
    const result = { drained: open - forced, forced };
    logger.info('server stopped', {
      fields: {
        result: 'stopped', reason, drained: result.drained, forced, connections: stats.connections, accepted: stats.accepted,
        refused_busy: stats.refusedBusy, requests: stats.requests, max_queued_bytes: stats.maxQueuedBytes,
        refused_events: stats.refusedEvents, loop_delay_samples: stats.loopDelay.samples, loop_delay_p50_ms: stats.loopDelay.p50Ms,
        loop_delay_p99_ms: stats.loopDelay.p99Ms, loop_delay_max_ms: stats.loopDelay.maxMs,
        rss_bytes: stats.memory.rssBytes, heap_used_bytes: stats.memory.heapUsedBytes,
      },
    });
    return result;
  }
  // #endregion shutdown
}

/**
 * One accepted socket: a decoder, an activity tracker, one timer, and the state
 * machine that decides what each socket event means.
 */
class ServerConnection {
  readonly id: string;
  readonly #socket: Socket;
  readonly #context: ServerContext;
  readonly #log: Logger;
  readonly #decoder: FrameDecoder;
  readonly #tracker: ActivityTracker;
  #state: ConnectionState;
  #timer: Timer | undefined;
  /** The chunk being handled, between the `data` event and its `decode` action. */
  #chunk: Uint8Array | undefined;
  /** The reply being handled, between the `reply` event and its `write` action. */
  #reply: Uint8Array | undefined;
  /** Why the decoder refused a frame, for the `send-error` action. */
  #badFrame: unknown;

  constructor(socket: Socket, id: string, context: ServerContext) {
    this.id = id;
    this.#socket = socket;
    this.#context = context;
    const peer = formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    this.#log = context.logger.child({ conn: id, peer });
    this.#decoder = new FrameDecoder({ maxFrameBytes: context.maxFrameBytes });
    this.#tracker = new ActivityTracker(context.timeouts, context.clock);
    this.#state = initialConnectionState(context.limits);
    // #region socket-events
    socket.on('data', (chunk: Uint8Array) => {
      this.#chunk = chunk;
      this.#apply({ type: 'data' });
      this.#chunk = undefined;
    });
    socket.on('drain', () => this.#apply({ type: 'drain' }));
    socket.on('end', () => this.#apply({ type: 'end' }));
    socket.on('error', (error) => this.#apply({ type: 'error', errorCode: this.#errorCode(error) }));
    socket.on('close', () => this.#apply({ type: 'close' }));
    // #endregion socket-events
    this.#arm();
    this.#log.debug('connection opened', { fields: { result: 'open' } });
  }

  /** The connection's phase. */
  get phase(): ConnectionState['phase'] {
    return this.#state.phase;
  }

  /** Reply bytes queued for the peer now. */
  get queuedBytes(): number {
    return this.#state.phase === 'closed' ? 0 : this.#socket.writableLength;
  }

  /** Shutdown has begun: close at the next frame boundary. */
  shutdown(): void {
    this.#apply({ type: 'shutdown' });
  }

  /** The grace period is over: cut. Returns 1 if the connection was still open, else 0. */
  cut(): number {
    const open = this.#state.closeReason === undefined;
    this.#apply({ type: 'cut' });
    return open ? 1 : 0;
  }

  // #region apply
  /** Feeds one event to the state machine and performs the actions it returns, in order. */
  #apply(event: ConnectionEvent): void {
    const result = connectionStep(this.#state, event);
    if (!result.ok) {
      this.#context.refused(this, event, result.refused);
      return;
    }
    const before = this.#state.phase;
    this.#state = result.state;
    if (result.state.phase !== before) this.#arm();
    for (const action of result.actions) this.#perform(action);
  }

  #perform(action: ConnectionAction): void {
    switch (action.type) {
      case 'decode': return this.#decode(this.#chunk as Uint8Array);
      case 'write': return this.#write(this.#reply as Uint8Array);
      case 'pause': return this.#pause();
      case 'resume': return this.#resume();
      case 'send-error': return this.#sendError();
      case 'end': return void this.#socket.end();
      case 'destroy': return void this.#socket.destroy();
      case 'log-close': return this.#logClose(action);
      case 'release': return this.#release();
    }
  }
  // #endregion apply

  // #region decode
  /** Decodes a chunk and answers each complete request, stopping if the connection starts closing. */
  #decode(chunk: Uint8Array): void {
    const arrivedMs = this.#context.clock.now();
    const firstStartedMs = this.#tracker.frameStartedMs ?? arrivedMs;
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk); // 'data' chunks have no message boundaries
    } catch (error) {
      this.#badFrame = error;
      this.#apply({ type: 'bad-frame', errorCode: isCivicError(error) ? error.code : 'E_FRAME_OVERSIZE' });
      return;
    }
    const midFrame = this.#decoder.pendingBytes > 0;
    this.#tracker.onRead(midFrame, frames.length);
    for (const [i, frame] of frames.entries()) {
      if (!this.#answering()) break;
      this.#answer(frame, i === 0 ? firstStartedMs : arrivedMs);
    }
    this.#apply({ type: 'decoded', midFrame });
  }
  // #endregion decode

  /** True while requests are answered: reading, or paused by this very chunk. */
  #answering(): boolean {
    const { phase } = this.#state;
    return phase === 'reading-header' || phase === 'reading-payload' || phase === 'writing';
  }

  // #region answer
  /** Runs the handler on one request and offers each reply frame to the state machine. */
  #answer(frame: Uint8Array, startedMs: number): void {
    let result: HandlerResult;
    try {
      result = this.#context.handler(frame, { connectionId: this.id, maxFrameBytes: this.#context.maxFrameBytes });
    } catch (error) {
      this.#log.error('handler failed', { fields: { result: 'error', error_code: 'E_SERVER_HANDLER', detail: String(error) } });
      result = errorReply('none', 'E_SERVER_HANDLER', 'Cannot answer request: the handler failed');
    }
    for (const reply of result.frames) {
      if (!this.#answering()) return; // cut at the cap: the rest is never written
      this.#reply = reply;
      this.#apply({ type: 'reply', bytes: reply.length, queuedBytes: this.#socket.writableLength });
      this.#reply = undefined;
    }
    if (result.frames.length === 0) return; // a keep-alive: nothing to count or log
    this.#context.answered();
    const latencyMs = Math.round((this.#context.clock.now() - startedMs) * 1000) / 1000;
    this.#log.debug('request', {
      requestId: result.requestId,
      fields: { result: result.errorCode === undefined ? 'ok' : 'error', latency_ms: latencyMs, bytes: frame.length, error_code: result.errorCode },
    });
  }
  // #endregion answer

  #write(reply: Uint8Array): void {
    this.#socket.write(reply);
    this.#tracker.onWrite();
    const queuedBytes = this.#socket.writableLength;
    this.#context.queued(queuedBytes);
    this.#apply({ type: 'written', queuedBytes });
  }

  #pause(): void {
    this.#socket.pause();
    this.#log.debug('reading paused', { fields: { result: 'paused', queued_bytes: this.#state.queuedBytes } });
  }

  #resume(): void {
    // Time spent paused was our doing: the open frame's read deadline starts again now.
    this.#tracker.onRead(this.#state.midFrame, 1);
    this.#arm();
    this.#socket.resume();
    this.#log.debug('reading resumed', { fields: { result: 'resumed' } });
  }

  /** An error reply for a refused frame header; the `end` that follows flushes it before FIN. */
  #sendError(): void {
    const error = this.#badFrame;
    const code = isCivicError(error) ? error.code : 'E_FRAME_OVERSIZE';
    const body = new TextEncoder().encode(error instanceof Error ? error.message : String(error));
    this.#socket.write(frameMessage({ type: 'error', requestId: 'none', errorCode: code, body }, MAX_FRAME_BYTES_LIMIT));
  }

  // #region close-record
  /** The connection's one close record, with what it cost the server. */
  #logClose(action: Extract<ConnectionAction, { type: 'log-close' }>): void {
    const state = this.#state;
    const fields = {
      result: 'closed', reason: action.reason, error_code: action.errorCode, limit: action.limit,
      queued_bytes: state.queuedBytes, max_queued_bytes: state.maxQueuedBytes, pauses: state.pauses,
      pending_bytes: this.#decoder.pendingBytes,
    };
    this.#log.log(action.level, 'connection closed', { fields });
  }
  // #endregion close-record

  #release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#context.release(this, this.#state.closeReason);
  }

  #errorCode(error: Error): string {
    const coded = connectError(error, { host: this.#socket.remoteAddress ?? '?', port: this.#socket.remotePort ?? 0 }, 'io');
    return isCivicError(coded) ? coded.code : 'E_NET_RESET';
  }

  // #region timer
  /** Arms the one timer of the current phase (see {@link timerFor}), replacing any other. */
  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const kind = timerFor(this.#state.phase);
    if (kind === undefined) return;
    let delayMs: number;
    if (kind === 'slow_reader') delayMs = this.#context.slowReaderMs;
    else if (kind === 'linger') delayMs = this.#context.lingerMs;
    else delayMs = this.#tracker.deadline().atMs - this.#context.clock.now();
    this.#timer = setTimeout(() => this.#onTimer(kind), Math.max(0, Math.ceil(delayMs)));
    this.#timer.unref();
  }

  #onTimer(kind: TimerKind): void {
    this.#timer = undefined;
    if ((kind === 'idle_timeout' || kind === 'read_timeout') && this.#tracker.expired() === undefined) {
      this.#arm(); // there was traffic since the timer was set: sleep until the new deadline
      return;
    }
    this.#apply({ type: 'timeout', timer: kind });
  }
  // #endregion timer
}
