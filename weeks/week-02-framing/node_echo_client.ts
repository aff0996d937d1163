/**
 * The echo client. {@link EchoConnection} is one TCP connection that sends framed
 * requests (pipelined: many may be in flight) and matches replies by request id.
 * {@link EchoClient} adds what a caller needs on top: request ids from an injected
 * source, deadlines, a retry loop that follows the rule in `retry.ts`, and one log
 * record per attempt carrying the request id.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { randomIds, type Clock, type IdSource } from '../../lib/clock.ts';
import { CivicError, errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS } from './catalog.ts';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder } from './frame.ts';
import { coalesceParts, frameMessageParts, isRequestId, parseMessage } from './message.ts';
import { connectError, formatAddress, type NetAddress } from './net_errors.ts';
import { DEFAULT_RETRY_POLICY, systemRandom, withRetry, type RandomSource, type RetryPolicy } from './retry.ts';
import { createLogger, nullSink, preciseClock, type Logger } from './structured_log.ts';

const fail = errorFactory(FRAME_ERRORS);

/** The type of `setTimeout`'s handle, without naming Node's timer types. */
type Timer = ReturnType<typeof setTimeout>;

/** Options of {@link EchoConnection.open}. */
export interface ConnectOptions extends NetAddress {
  /** Give up connecting after this long (`E_NET_CONNECT_TIMEOUT`). Default 1000. */
  readonly connectTimeoutMs?: number;
  /** The largest reply payload accepted. Default 1 MiB. */
  readonly maxFrameBytes?: number;
}

/** A request waiting for its reply. */
interface Pending {
  readonly resolve: (body: Uint8Array) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: Timer | undefined;
}

/**
 * One client connection. Requests may be pipelined; the connection fails every
 * request in flight at once when it breaks, with the error that broke it.
 */
export class EchoConnection {
  readonly #socket: Socket;
  readonly #address: NetAddress;
  readonly #maxFrameBytes: number;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<string, Pending>();
  #broken: unknown;
  #outbox: Uint8Array[] = [];
  #drainWait: Promise<void> | undefined;

  private constructor(socket: Socket, options: ConnectOptions) {
    this.#socket = socket;
    this.#address = { host: options.host, port: options.port };
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#decoder = new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes, copy: false }); // socket chunks are never reused
    socket.on('data', (chunk: Uint8Array) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error) => this.#breakWith(connectError(error, this.#address, 'io')));
    socket.on('close', () => this.#breakWith(fail('E_NET_CLOSED', `Cannot finish request: ${formatAddress(this.#address)} closed the connection`)));
  }

  // #region open
  /**
   * Connects.
   * @param options - the server's address, the connect deadline, the reply size limit
   * @returns the open connection
   * @throws {@link CivicError} `E_NET_REFUSED`, `E_NET_UNREACHABLE` or
   *   `E_NET_CONNECT_TIMEOUT` (definite: nothing was sent), `E_NET_BAD_ADDRESS`
   */
  static async open(options: ConnectOptions): Promise<EchoConnection> {
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    const timeoutMs = options.connectTimeoutMs ?? 1000;
    let timer: Timer | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => {
          reject(fail('E_NET_CONNECT_TIMEOUT', `Cannot connect to ${formatAddress(options)}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.once('connect', resolve);
        socket.once('error', (error) => reject(connectError(error, options, 'connect')));
      });
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    socket.removeAllListeners('error');
    return new EchoConnection(socket, options);
  }
  // #endregion open

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** True once the connection has failed or closed; it takes no more requests. */
  get broken(): boolean {
    return this.#broken !== undefined;
  }

  // #region request
  /**
   * Sends one echo request and waits for its reply. If the socket's buffer is full
   * (`write()` returned false), waits for 'drain' before writing, so a fast caller
   * cannot grow the process's memory without bound.
   * @param requestId - the request's id, unique among those in flight
   * @param body - the bytes to echo
   * @param options - `timeoutMs`: how long to wait for the reply (`E_NET_TIMEOUT`)
   * @returns the reply's body, as the server sent it
   * @throws {@link CivicError} transport codes (`E_NET_RESET`, `E_NET_CLOSED`,
   *   `E_NET_TIMEOUT`, `E_FRAME_TRUNCATED`) or protocol codes (`E_FRAME_OVERSIZE`,
   *   `E_MESSAGE_MALFORMED`, `E_ECHO_MISMATCH`, or the code of the server's error reply)
   */
  async request(requestId: string, body: Uint8Array, options: { readonly timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#pending.has(requestId)) throw new TypeError(`request id ${requestId} is already in flight`);
    const parts = frameMessageParts({ type: 'echo', requestId, body }, this.#maxFrameBytes);
    if (this.#socket.writableNeedDrain) await this.#drained();
    const reply = new Promise<Uint8Array>((resolve, reject) => {
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
        this.#breakWith(fail('E_NET_TIMEOUT', `Cannot get reply to ${requestId}: none within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
    });
    // Requests made in the same tick (a pipelining caller) leave in one writev.
    this.#outbox.push(...parts);
    if (this.#outbox.length === parts.length) process.nextTick(() => this.#flush());
    return reply;
  }
  // #endregion request

  /** Writes the frame parts queued this tick as one batch (a single writev). */
  #flush(): void {
    const parts = this.#outbox;
    this.#outbox = [];
    if (this.#broken !== undefined) return;
    this.#socket.cork();
    for (const buffer of coalesceParts(parts)) this.#socket.write(buffer);
    this.#socket.uncork();
  }

  /** Waits for 'drain'; every waiting request shares one listener. */
  async #drained(): Promise<void> {
    this.#drainWait ??= new Promise<void>((resolve) => {
      const done = () => {
        this.#socket.off('drain', done).off('close', done);
        this.#drainWait = undefined;
        resolve();
      };
      this.#socket.on('drain', done).on('close', done);
    });
    await this.#drainWait;
    if (this.#broken !== undefined) throw this.#broken;
  }

  /** Closes the connection; requests in flight fail with `E_NET_CLOSED`. */
  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Uint8Array): void {
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#breakWith(error); // an oversize reply: protocol error, never retried
      return;
    }
    for (const frame of frames) {
      if (frame.length === 0) continue; // keep-alive
      try {
        this.#settle(frame);
      } catch (error) {
        this.#breakWith(error);
        return;
      }
    }
  }

  /** Hands one reply to its waiting request. */
  #settle(frame: Uint8Array): void {
    const reply = parseMessage(frame);
    const pending = this.#pending.get(reply.requestId);
    if (pending === undefined) {
      if (reply.type === 'error') throw serverError(reply.errorCode as string, reply.body, reply.requestId);
      throw fail('E_ECHO_MISMATCH', `Cannot match reply: request id ${reply.requestId} is not in flight`);
    }
    this.#pending.delete(reply.requestId);
    clearTimeout(pending.timer);
    if (reply.type === 'echo_reply') pending.resolve(reply.body); // a view of a payload the decoder made fresh: no one else holds it
    else if (reply.type === 'error') pending.reject(serverError(reply.errorCode as string, reply.body, reply.requestId));
    else throw fail('E_MESSAGE_MALFORMED', `Cannot read reply to ${reply.requestId}: type ${reply.type} is a request`);
  }

  #onEnd(): void {
    try {
      this.#decoder.end();
      this.#breakWith(fail('E_NET_CLOSED', `Cannot finish request: ${formatAddress(this.#address)} closed the connection`));
    } catch (error) {
      this.#breakWith(error); // E_FRAME_TRUNCATED: the server went away mid-reply
    }
  }

  /** Fails every request in flight with `error` and closes; the first cause wins. */
  #breakWith(error: unknown): void {
    this.#broken ??= error;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(this.#broken);
      this.#pending.delete(id);
    }
    this.#socket.destroy();
  }
}

/** Rebuilds the server's error reply as a CivicError with the server's code (codes travel as data). */
function serverError(code: string, body: Uint8Array, requestId: string): CivicError {
  const text = new TextDecoder().decode(body);
  const spec = FRAME_ERRORS[code as keyof typeof FRAME_ERRORS];
  if (spec === undefined) return fail('E_MESSAGE_MALFORMED', `Cannot use reply to ${requestId}: the server answered with unknown code ${code}: ${text}`);
  return new CivicError(code, `Server refused request ${requestId}: ${text}`, { definite: spec.definite });
}

/** Options of {@link EchoClient}. */
export interface EchoClientOptions extends ConnectOptions {
  /** How long to wait for each reply. Default 5000. */
  readonly replyTimeoutMs?: number;
  /** Attempts and time budget. Default {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: RetryPolicy;
  /** Makes request ids. Default random UUIDs. */
  readonly ids?: IdSource;
  /** Measures latency and the retry budget. Default {@link preciseClock}. */
  readonly clock?: Clock;
  /** Draws backoff jitter. Default {@link systemRandom}. */
  readonly random?: RandomSource;
  /** Waits between attempts. Default a `setTimeout` promise. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where attempt records go. Default nowhere. */
  readonly logger?: Logger;
}

/** What the caller must say about each request. */
export interface SendOptions {
  /**
   * True when sending the request twice does no harm. An indefinite failure (reset,
   * timeout, close) is retried only then; a definite one (refused) always may be.
   */
  readonly idempotent: boolean;
  /** Use this request id instead of drawing one (it stays the same across retries). */
  readonly requestId?: string;
}

/** A successful echo. */
export interface EchoReply {
  /** The request id, as logged by both client and server. */
  readonly requestId: string;
  /** The echoed bytes, equal to those sent. */
  readonly body: Uint8Array;
  /** Attempts made, 1 when the first one succeeded. */
  readonly attempts: number;
  /** Time of the successful attempt, connect included, in milliseconds. */
  readonly latencyMs: number;
}

/** A client that keeps one connection and reopens it after a failure. */
export class EchoClient {
  readonly #options: EchoClientOptions;
  readonly #clock: Clock;
  readonly #ids: IdSource;
  readonly #log: Logger;
  #connection: EchoConnection | undefined;

  /** @param options - server address, deadlines, retry policy and injected sources */
  constructor(options: EchoClientOptions) {
    this.#options = options;
    this.#clock = options.clock ?? preciseClock;
    this.#ids = options.ids ?? randomIds;
    this.#log = options.logger ?? createLogger({ clock: this.#clock, ids: randomIds, sink: nullSink });
  }

  // #region send
  /**
   * Sends `body` and waits for the echo, retrying as the retry rule allows. The
   * request id is drawn once and kept across attempts, so the server's log shows
   * each retry of the same request under the same id.
   * @param body - the bytes to echo
   * @param options - whether the request is idempotent; optionally its id
   * @returns the reply, with the attempt count and latency
   * @throws {@link CivicError} the last attempt's code, its message ending in the
   *   attempt count and why retrying stopped; `E_ECHO_MISMATCH` if the echo differs
   */
  async send(body: Uint8Array, options: SendOptions): Promise<EchoReply> {
    const requestId = options.requestId ?? this.#ids.next();
    if (!isRequestId(requestId)) throw new TypeError(`invalid request id ${JSON.stringify(requestId)}`);
    let latencyMs = 0;
    const attempt = async (n: number): Promise<{ body: Uint8Array; attempts: number }> => {
      const started = this.#clock.now();
      try {
        const connection = await this.#open();
        const reply = await connection.request(requestId, body, { timeoutMs: this.#options.replyTimeoutMs ?? 5000 });
        if (!sameBytes(reply, body)) throw fail('E_ECHO_MISMATCH', `Cannot accept reply to ${requestId}: the echoed bytes differ`);
        latencyMs = round(this.#clock.now() - started);
        return { body: reply, attempts: n };
      } catch (error) {
        this.close(); // a failed connection is never reused
        throw error;
      }
    };
    const result = await withRetry(attempt, {
      policy: this.#options.retry ?? DEFAULT_RETRY_POLICY,
      idempotent: options.idempotent,
      clock: this.#clock,
      random: this.#options.random ?? systemRandom,
      sleep: this.#options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      onFailure: (failure) => {
        const code = (failure.error as { code?: string }).code;
        this.#log.warn('echo attempt failed', {
          requestId,
          fields: {
            result: failure.stop === undefined ? 'retry' : 'error',
            error_code: code,
            attempt: failure.attempt,
            reason: failure.stop ?? failure.decision.reason,
            delay_ms: failure.delayMs,
            elapsed_ms: round(failure.elapsedMs),
          },
        });
      },
    });
    this.#log.info('echo', { requestId, fields: { result: 'ok', latency_ms: latencyMs, attempt: result.attempts, bytes: body.length } });
    return { requestId, body: result.body, attempts: result.attempts, latencyMs };
  }
  // #endregion send

  async #open(): Promise<EchoConnection> {
    if (this.#connection === undefined || this.#connection.broken) {
      this.#connection = undefined;
      this.#connection = await EchoConnection.open(this.#options);
    }
    return this.#connection;
  }

  /** Closes the connection, if one is open. The client may still send: it reconnects. */
  close(): void {
    this.#connection?.close();
    this.#connection = undefined;
  }
}

/**
 * Sends one echo on a fresh client and closes it: the one-shot form `echo send` uses.
 * @param body - the bytes to echo
 * @param options - the client's options and the request's
 * @returns the reply
 * @throws {@link CivicError} as {@link EchoClient.send}
 */
export async function sendEcho(body: Uint8Array, options: EchoClientOptions & SendOptions): Promise<EchoReply> {
  const client = new EchoClient(options);
  try {
    return await client.send(body, options);
  } finally {
    client.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
