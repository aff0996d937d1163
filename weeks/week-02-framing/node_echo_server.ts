/**
 * The TCP echo server: Node's `net` module around the pure codec. Each connection
 * gets a {@link FrameDecoder}, an {@link ActivityTracker} and one timer; every frame
 * is answered with a reply frame carrying the same request id; every connection ends
 * with exactly one `connection closed` record that says why.
 *
 * Lifecycle: {@link EchoServer.listen} binds or fails with a coded error;
 * {@link EchoServer.close} stops accepting, lets frames already begun finish within a
 * grace period, and then cuts whatever is left.
 * @module
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Clock } from '../../lib/clock.ts';
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { FRAME_ERRORS } from './catalog.ts';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, MAX_FRAME_BYTES_LIMIT } from './frame.ts';
import { coalesceParts, frameMessage, frameMessageParts, parseMessage } from './message.ts';
import { connectError, formatAddress, listenError, type NetAddress } from './net_errors.ts';
import { preciseClock, type Logger } from './structured_log.ts';
import { ActivityTracker, DEFAULT_TIMEOUT_POLICY, type TimeoutPolicy } from './timeouts.ts';

/** Options of {@link EchoServer.listen}. */
export interface EchoServerOptions {
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port; 0 lets the kernel choose a free one. Default 0. */
  readonly port?: number;
  /** The largest frame payload accepted. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Idle and read timeouts. Default 30 s and 10 s. */
  readonly timeouts?: TimeoutPolicy;
  /** Where the server's records go; give it a `node_id` field. */
  readonly logger: Logger;
  /** Measures latency and timeouts. Default {@link preciseClock}. */
  readonly clock?: Clock;
}

/** Options of {@link EchoServer.close}. */
export interface CloseOptions {
  /** Logged as the reason the server stopped, e.g. `sigterm`. */
  readonly reason: string;
  /** How long frames already begun may take to finish before their connections are cut. */
  readonly graceMs: number;
}

/** How a shutdown went. */
export interface CloseResult {
  /** Connections that reached a frame boundary and were closed cleanly. */
  readonly drained: number;
  /** Connections cut when the grace period ran out. */
  readonly forced: number;
}

/** Why a connection was closed, as logged in `reason`. */
export type CloseReason =
  | 'peer_closed' | 'peer_closed_mid_frame' | 'peer_reset' | 'peer_reset_mid_frame'
  | 'idle_timeout' | 'read_timeout' | 'oversize_frame' | 'shutdown' | 'shutdown_grace_expired';

const fail = errorFactory(FRAME_ERRORS);
const encoder = new TextEncoder();

/** How long a connection refused for a bad frame may linger to flush its error reply. */
const LINGER_MS = 1000;

/** An empty payload: a keep-alive, which refreshes the idle timer and gets no reply. */
const KEEPALIVE_BYTES = 0;

/** The type of `setTimeout`'s handle, without naming Node's timer types. */
type Timer = ReturnType<typeof setTimeout>;

/** A TCP server that echoes framed messages. */
export class EchoServer {
  readonly #server: Server;
  readonly #options: EchoServerOptions;
  readonly #clock: Clock;
  readonly #connections = new Set<Connection>();
  #serial = 0;
  #closing: Promise<CloseResult> | undefined;

  private constructor(server: Server, options: EchoServerOptions) {
    this.#server = server;
    this.#options = options;
    this.#clock = options.clock ?? preciseClock;
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (error) => options.logger.error('server error', { fields: { result: 'error', detail: String(error) } }));
  }

  // #region listen
  /**
   * Binds the address and starts accepting connections.
   * @param options - address, limits, timeouts, logger
   * @returns the listening server
   * @throws {@link CivicError} `E_NET_ADDR_IN_USE` (exit 7), `E_NET_PERMISSION` (exit 5)
   *   or `E_NET_BAD_ADDRESS` (exit 2); nothing is left open
   */
  static async listen(options: EchoServerOptions): Promise<EchoServer> {
    const address = { host: options.host ?? '127.0.0.1', port: options.port ?? 0 };
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address.host, port: address.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      server.close();
      throw listenError(error, address);
    }
    const echo = new EchoServer(server, options);
    options.logger.info('server listening', { fields: { result: 'listening', address: formatAddress(echo.address) } });
    return echo;
  }
  // #endregion listen

  /** The bound address: with port 0, the port the kernel chose. */
  get address(): NetAddress {
    const bound = this.#server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  /** Connections open right now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  #accept(socket: Socket): void {
    this.#serial += 1;
    const connection = new Connection(socket, {
      id: `c${this.#serial}`,
      clock: this.#clock,
      logger: this.#options.logger,
      maxFrameBytes: this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      timeouts: this.#options.timeouts ?? DEFAULT_TIMEOUT_POLICY,
    });
    this.#connections.add(connection);
    socket.once('close', () => this.#connections.delete(connection));
    if (this.#closing !== undefined) connection.drain(); // accepted just before close(): drain at once
  }

  // #region close
  /**
   * Shuts down: stops accepting, closes idle connections at once, lets each
   * connection in the middle of a frame finish it (and get its reply), then cuts
   * whatever is still open when the grace period ends. Calling it twice returns the
   * first call's promise.
   * @param options - the reason to log and the grace period
   * @returns how many connections drained and how many were cut
   */
  close(options: CloseOptions): Promise<CloseResult> {
    this.#closing ??= this.#shutdown(options);
    return this.#closing;
  }

  async #shutdown({ reason, graceMs }: CloseOptions): Promise<CloseResult> {
    const logger = this.#options.logger;
    logger.info('server stopping', { fields: { result: 'stopping', reason, connections: this.#connections.size, grace_ms: graceMs } });
    const open = this.#connections.size;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve())); // no new connections
    for (const connection of this.#connections) connection.drain();
    let forced = 0;
    const grace = setTimeout(() => {
      for (const connection of this.#connections) forced += connection.cut();
    }, graceMs);
    await closed; // every connection has closed
    clearTimeout(grace);
    const result = { drained: open - forced, forced };
    logger.info('server stopped', { fields: { result: 'stopped', reason, drained: result.drained, forced } });
    return result;
  }
  // #endregion close
}

/** What a {@link Connection} needs from its server. */
interface ConnectionContext {
  readonly id: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxFrameBytes: number;
  readonly timeouts: TimeoutPolicy;
}

/** One accepted socket: decoder, deadlines, replies, and its single close record. */
class Connection {
  readonly #socket: Socket;
  readonly #context: ConnectionContext;
  readonly #log: Logger;
  readonly #decoder: FrameDecoder;
  readonly #tracker: ActivityTracker;
  #timer: Timer | undefined;
  #armedAtMs = Number.POSITIVE_INFINITY;
  #closedReason: CloseReason | undefined;
  #draining = false;
  #paused = false;
  #frames = 0;

  constructor(socket: Socket, context: ConnectionContext) {
    this.#socket = socket;
    this.#context = context;
    const peer = formatAddress({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    this.#log = context.logger.child({ conn: context.id, peer });
    this.#decoder = new FrameDecoder({ maxFrameBytes: context.maxFrameBytes, copy: false }); // socket chunks are never reused
    this.#tracker = new ActivityTracker(context.timeouts, context.clock);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Uint8Array) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error) => this.#onError(error));
    socket.on('close', () => this.#onClose());
    this.#arm();
    this.#log.info('connection opened', { fields: { result: 'open' } });
  }

  // #region on-data
  #onData(chunk: Uint8Array): void {
    if (this.#closedReason !== undefined) return; // closing: read and drop, never act
    const arrivedMs = this.#context.clock.now();
    const firstStartedMs = this.#tracker.frameStartedMs ?? arrivedMs;
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk); // 'data' chunks have no message boundaries
    } catch (error) {
      this.#refuse(error);
      return;
    }
    const sameFrame = this.#tracker.frameStartedMs !== undefined && frames.length === 0;
    this.#tracker.onRead(this.#decoder.pendingBytes > 0, frames.length);
    this.#rearmIfSooner();
    if (!sameFrame && this.#decoder.pendingBytes > 0) {
      // A frame left unfinished at the end of a chunk: rare on a fast path, and the
      // state a read timeout or a shutdown grace period is about.
      this.#log.debug('frame begun', { fields: { pending_bytes: this.#decoder.pendingBytes, expected_bytes: this.#decoder.expectedBytes } });
    }
    const replies: Uint8Array[] = [];
    frames.forEach((frame, i) => {
      const reply = this.#answer(frame, i === 0 ? firstStartedMs : arrivedMs);
      if (reply !== undefined) replies.push(...reply);
    });
    if (replies.length > 0) this.#send(replies);
    if (this.#draining && this.#decoder.pendingBytes === 0) this.#finish('shutdown');
  }
  // #endregion on-data

  // #region answer
  /** The reply to one frame, as parts to write, logged; undefined for a keep-alive. */
  #answer(frame: Uint8Array, startedMs: number): readonly Uint8Array[] | undefined {
    if (frame.length === KEEPALIVE_BYTES) return undefined;
    this.#frames += 1;
    const { bytes, requestId, errorCode } = this.#reply(frame);
    const latencyMs = Math.round((this.#context.clock.now() - startedMs) * 1000) / 1000;
    const fields = { result: errorCode === undefined ? 'ok' : 'error', latency_ms: latencyMs, bytes: frame.length, error_code: errorCode };
    this.#log.log(errorCode === undefined ? 'info' : 'warn', 'echo', { requestId, fields });
    return bytes;
  }

  /**
   * Writes the replies to one chunk's frames as one batch: small pieces joined, large
   * echoed bodies sent from where they lie, all inside cork/uncork so the kernel gets
   * a single writev. When `write()` returns false the kernel send buffer is full and
   * Node is queueing in memory: stop reading, so that no more replies pile up, until
   * 'drain'.
   */
  #send(parts: readonly Uint8Array[]): void {
    this.#socket.cork();
    let accepted = true;
    for (const buffer of coalesceParts(parts)) accepted = this.#socket.write(buffer);
    this.#socket.uncork();
    if (!accepted && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
      this.#socket.once('drain', () => {
        this.#paused = false;
        this.#socket.resume();
      });
    }
    this.#tracker.onWrite();
  }
  // #endregion answer

  /** The reply frame to one request frame: its echo, or an error message naming the code. */
  #reply(frame: Uint8Array): { bytes: readonly Uint8Array[]; requestId: string; errorCode?: string } {
    let requestId = 'none';
    try {
      const request = parseMessage(frame);
      requestId = request.requestId;
      if (request.type !== 'echo') throw fail('E_MESSAGE_MALFORMED', `Cannot answer message: type ${request.type} is not a request`);
      // The reply's header is a few bytes longer than the request's, so it may not fit.
      return { bytes: frameMessageParts({ type: 'echo_reply', requestId, body: request.body }, this.#context.maxFrameBytes), requestId };
    } catch (error) {
      const errorCode = isCivicError(error) ? error.code : 'E_MESSAGE_MALFORMED';
      const body = encoder.encode(error instanceof Error ? error.message : String(error));
      // An error reply is a few hundred bytes at most; it is never refused for size.
      return { bytes: [frameMessage({ type: 'error', requestId, errorCode, body }, MAX_FRAME_BYTES_LIMIT)], requestId, errorCode };
    }
  }

  /** A bad frame header: send one error reply, stop acting on input, close soon. */
  #refuse(error: unknown): void {
    const errorCode = isCivicError(error) ? error.code : 'E_FRAME_OVERSIZE';
    const body = encoder.encode(error instanceof Error ? error.message : String(error));
    this.#close('oversize_frame', 'warn', errorCode);
    // Half-close after the error reply, and keep reading (and dropping) for a moment:
    // closing with unread input would send RST, which can destroy the reply in flight.
    this.#socket.end(frameMessage({ type: 'error', requestId: 'none', errorCode, body }, MAX_FRAME_BYTES_LIMIT));
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }

  // #region on-end
  /** The peer sent FIN. At a frame boundary that is a normal close; mid-frame it is a truncation. */
  #onEnd(): void {
    try {
      this.#decoder.end();
      this.#close('peer_closed', 'info');
    } catch (error) {
      this.#close('peer_closed_mid_frame', 'warn', isCivicError(error) ? error.code : undefined, { detail: (error as Error).message });
    }
  }
  // #endregion on-end

  #onError(error: Error): void {
    const coded = connectError(error, { host: this.#socket.remoteAddress ?? '?', port: this.#socket.remotePort ?? 0 }, 'io');
    const midFrame = this.#decoder.pendingBytes > 0;
    const code = midFrame ? 'E_FRAME_TRUNCATED' : isCivicError(coded) ? coded.code : 'E_NET_RESET';
    this.#close(midFrame ? 'peer_reset_mid_frame' : 'peer_reset', 'warn', code, { detail: error.message });
  }

  #onClose(): void {
    clearTimeout(this.#timer);
    if (this.#closedReason === undefined) this.#close('peer_closed', 'info');
  }

  // #region timer
  /**
   * One timer per connection, armed for the nearest deadline and re-checked when it
   * fires. Traffic only moves the idle deadline later, so it needs no re-arming: the
   * timer wakes, sees the new deadline and sleeps again. A frame that begins can move
   * the deadline earlier (a read limit shorter than the idle one): that is the one case
   * {@link Connection.#rearmIfSooner} re-arms for.
   */
  #arm(): void {
    clearTimeout(this.#timer);
    const deadline = this.#tracker.deadline();
    this.#armedAtMs = deadline.atMs;
    const delay = Math.max(0, deadline.atMs - this.#context.clock.now());
    this.#timer = setTimeout(() => this.#onTimer(), Math.ceil(delay));
    this.#timer.unref();
  }

  #rearmIfSooner(): void {
    if (this.#tracker.deadline().atMs < this.#armedAtMs) this.#arm();
  }

  #onTimer(): void {
    if (this.#closedReason !== undefined) return;
    const expired = this.#tracker.expired();
    if (expired === undefined) return this.#arm(); // there was traffic since: sleep again
    const errorCode = expired.reason === 'read_timeout' ? 'E_NET_TIMEOUT' : undefined;
    this.#close(expired.reason, 'warn', errorCode, { pending_bytes: this.#decoder.pendingBytes });
    this.#socket.destroy();
  }
  // #endregion timer

  /** Shutdown has begun: close now if at a frame boundary, else after the current frame. */
  drain(): void {
    this.#draining = true;
    if (this.#closedReason === undefined && this.#decoder.pendingBytes === 0) this.#finish('shutdown');
  }

  /** The grace period is over: cut the connection. Returns 1 if it was still inside a frame. */
  cut(): number {
    const wasOpen = this.#closedReason === undefined;
    if (wasOpen) this.#close('shutdown_grace_expired', 'warn', 'E_NET_TIMEOUT', { pending_bytes: this.#decoder.pendingBytes });
    this.#socket.destroy();
    return wasOpen ? 1 : 0;
  }

  /** Closes cleanly: replies already written are flushed, then FIN. */
  #finish(reason: CloseReason): void {
    this.#close(reason, 'info');
    this.#socket.end();
  }

  // #region close-record
  /** Records the one `connection closed` line of this connection; later calls are ignored. */
  #close(reason: CloseReason, level: 'info' | 'warn', errorCode?: string, extra: Record<string, string | number> = {}): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    clearTimeout(this.#timer);
    this.#log.log(level, 'connection closed', { fields: { result: 'closed', reason, error_code: errorCode, frames: this.#frames, ...extra } });
  }
  // #endregion close-record
}
