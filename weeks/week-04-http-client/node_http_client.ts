/**
 * An HTTP/1.1 client over `node:net` and week 4's own parser (not `node:http`): one
 * request per connection, a request id on every request, three separate timeouts,
 * and every failure turned into an {@link HttpError} that says whether it is
 * transient and whether it is definite.
 *
 * ```
 *  t=0 ── lookup + TCP handshake ──▶ connected ── request ──▶ … bytes … ──▶ response complete
 *   │◀────── connectMs ──────────▶│
 *                                 │◀ readMs ▶│◀ readMs ▶│  (idle between bytes, re-armed on each chunk)
 *   │◀──────────────────────────── totalMs ───────────────────────────────▶│
 * ```
 *
 * No retries here: the caller reads `transient` and `definite` and applies its own
 * policy (week 2's backoff), because only the caller knows whether the request is
 * idempotent.
 * @module
 */
import net from 'node:net';
import { HttpError, connectFailureCode } from './catalog.ts';
import { encodeHttpRequest } from './http_message.ts';
import { HttpResponseParser, type HttpHeader, type HttpParserLimits, type HttpResponse } from './http_parser.ts';
import { parseHttpTarget } from './http_target.ts';

/** The three timeouts of one exchange, in milliseconds. */
export interface HttpTimeouts {
  /** From the start until the TCP connection is established (DNS lookup included). */
  readonly connectMs: number;
  /** The longest silence allowed from the server once connected: re-armed by every chunk received. */
  readonly readMs: number;
  /** The whole exchange, from the start to the last byte of the response. */
  readonly totalMs: number;
}

/** The default timeouts: 5 s to connect, 10 s of silence, 30 s in all. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { connectMs: 5_000, readMs: 10_000, totalMs: 30_000 };

/** The header that carries the request id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  /** The correlation id sent as `X-Request-Id`: visible ASCII, at most 200 characters. */
  readonly requestId: string;
  /** `GET` (default), `POST` or `HEAD`. */
  readonly method?: 'GET' | 'POST' | 'HEAD';
  /** Extra header fields. */
  readonly headers?: readonly HttpHeader[];
  /** The request body (POST). */
  readonly body?: Uint8Array | string;
  /** Timeouts to override; the rest come from {@link DEFAULT_HTTP_TIMEOUTS}. */
  readonly timeouts?: Partial<HttpTimeouts>;
  /** Parser limits to override. */
  readonly limits?: Partial<HttpParserLimits>;
}

/** A completed exchange: the response plus what the client knows about it. */
export interface HttpExchange extends HttpResponse {
  /** The request id that was sent. */
  readonly requestId: string;
  /** Milliseconds from the start to: the connection, the first response byte, the last one. */
  readonly timings: {
    /** Until the TCP connection was established. */
    readonly connectMs: number;
    /** Until the first response byte arrived. */
    readonly firstByteMs: number;
    /** Until the response was complete. */
    readonly totalMs: number;
  };
}

const REQUEST_ID = /^[\x21-\x7E]{1,200}$/;

// #region http-request
/**
 * Sends one request on a fresh connection and reads the response.
 * @param url - an `http://` URL
 * @param options - the request id, method, body, timeouts and limits
 * @returns the response, once complete
 * @throws {@link HttpError}: `E_HTTP_BAD_URL`, `E_HTTP_BAD_ADDRESS`, `E_HTTP_BAD_REQUEST`
 *   before connecting; `E_HTTP_CONNECT_REFUSED`, `E_HTTP_UNREACHABLE`,
 *   `E_HTTP_HOST_NOT_FOUND`, `E_HTTP_CONNECT_TIMEOUT` while connecting;
 *   `E_HTTP_READ_TIMEOUT`, `E_HTTP_TOTAL_TIMEOUT`, `E_HTTP_CONNECTION_RESET`,
 *   `E_HTTP_TRUNCATED` or a parser code after
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpExchange> {
  const target = parseHttpTarget(url);
  const method = options.method ?? 'GET';
  if (!REQUEST_ID.test(options.requestId)) {
    throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot send request: request id ${JSON.stringify(options.requestId)} must be 1-200 visible ASCII characters`);
  }
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`timeout ${name} must be a positive whole number of ms, got ${value}`);
  }
  const body = typeof options.body === 'string' ? new TextEncoder().encode(options.body) : options.body;
  const request = encodeHttpRequest({
    method,
    target: target.path,
    host: target.hostHeader,
    headers: [['User-Agent', 'civictrust/week-04'], ['Accept', '*/*'], [REQUEST_ID_HEADER, options.requestId], ['Connection', 'close'], ...(options.headers ?? [])],
    ...(body === undefined ? {} : { body }),
  });
  const parser = new HttpResponseParser({ requestMethod: method, ...(options.limits === undefined ? {} : { limits: options.limits }) });
  const label = `${method} ${target.url} (request id ${options.requestId})`;
  return exchange({ target, request, parser, timeouts, label, requestId: options.requestId });
}
// #endregion http-request

/** What {@link exchange} needs: everything already checked and encoded. */
interface ExchangePlan {
  readonly target: { readonly host: string; readonly port: number };
  readonly request: Uint8Array;
  readonly parser: HttpResponseParser;
  readonly timeouts: HttpTimeouts;
  readonly label: string;
  readonly requestId: string;
}

// #region exchange
/** Runs the connection: three timers, one parser, exactly one outcome. */
function exchange(plan: ExchangePlan): Promise<HttpExchange> {
  const { parser, timeouts, label } = plan;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let connectedAt: number | undefined;
    let firstByteAt: number | undefined;
    let settled = false;
    const socket = net.connect({ host: plan.target.host, port: plan.target.port });
    // #region arm-timers
    const timers: ReturnType<typeof setTimeout>[] = [];
    const arm = (ms: number, code: 'E_HTTP_CONNECT_TIMEOUT' | 'E_HTTP_READ_TIMEOUT' | 'E_HTTP_TOTAL_TIMEOUT', what: string): ReturnType<typeof setTimeout> => {
      const timer = setTimeout(() => fail(new HttpError(code, `Cannot complete ${label}: ${what}`)), ms);
      timers.push(timer);
      return timer;
    };
    arm(timeouts.totalMs, 'E_HTTP_TOTAL_TIMEOUT', `the exchange did not finish within ${timeouts.totalMs} ms`);
    const connect = arm(timeouts.connectMs, 'E_HTTP_CONNECT_TIMEOUT', `no TCP connection within ${timeouts.connectMs} ms`);
    let read: ReturnType<typeof setTimeout> | undefined;
    // #endregion arm-timers

    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      return true;
    };
    const fail = (error: unknown): void => {
      if (settle()) reject(error);
    };
    /** A parser error, re-issued with the request it belongs to; other errors are bugs and pass through. */
    const failParse = (error: unknown): void => {
      fail(error instanceof HttpError ? new HttpError(error.code, `Cannot complete ${label}: ${detailOf(error.message)}`, error) : error);
    };
    const succeed = (response: HttpResponse): void => {
      if (!settle()) return;
      const now = performance.now();
      resolve({
        ...response,
        requestId: plan.requestId,
        timings: { connectMs: (connectedAt ?? now) - started, firstByteMs: (firstByteAt ?? now) - started, totalMs: now - started },
      });
    };

    // #region on-connect-data
    socket.once('connect', () => {
      connectedAt = performance.now();
      clearTimeout(connect);
      read = arm(timeouts.readMs, 'E_HTTP_READ_TIMEOUT', `the server sent nothing for ${timeouts.readMs} ms`);
      socket.write(plan.request);
    });
    socket.on('data', (chunk: Buffer) => {
      firstByteAt ??= performance.now();
      read?.refresh();
      try {
        parser.feed(chunk);
        if (parser.state === 'done') succeed(parser.result());
      } catch (error) {
        failParse(error);
      }
    });
    // #endregion on-connect-data
    socket.once('end', () => {
      try {
        succeed(parser.end());
      } catch (error) {
        failParse(error);
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (connectedAt === undefined) {
        const code = connectFailureCode(error.code);
        fail(new HttpError(code, `Cannot complete ${label}: connecting to ${plan.target.host}:${plan.target.port} failed with ${error.code ?? error.message}`, error));
      } else if (parser.received > 0) {
        fail(new HttpError('E_HTTP_TRUNCATED', `Cannot complete ${label}: the connection failed with ${error.code ?? error.message} after ${parser.received} response bytes`, error));
      } else {
        fail(new HttpError('E_HTTP_CONNECTION_RESET', `Cannot complete ${label}: the connection failed with ${error.code ?? error.message} before any response byte`, error));
      }
    });
    socket.once('close', () => {
      // 'end' or 'error' normally settles first; this catches a close without either.
      fail(new HttpError('E_HTTP_CONNECTION_RESET', `Cannot complete ${label}: the connection closed unexpectedly`));
    });
  });
}
// #endregion exchange

/** `Cannot read response: header line 2 …` → `header line 2 …`. */
function detailOf(message: string): string {
  return message.replace(/^Cannot [^:]*: /, '');
}
