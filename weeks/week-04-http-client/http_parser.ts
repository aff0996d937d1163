/**
 * An incremental HTTP/1.1 response parser (RFC 9112): bytes go in as they arrive, in
 * chunks of any size, and a response comes out once it is complete. Every limit is
 * checked as bytes arrive, so a peer that never ends a line or a header section is
 * refused after a bounded number of bytes, not after it runs the client out of memory.
 *
 * ```
 *            ┌──────────────── 1xx (not 101): an interim head, start again ───────┐
 *            ▼                                                                     │
 *   ┌─────────────┐ CRLF ┌─────────┐ empty line ┌─ 204, 304, 101, HEAD ─▶ done     │
 *   │ status-line │─────▶│ headers │────────────┤                                  │
 *   └─────────────┘      └─────────┘            ├─ 1xx ────────────────────────────┘
 *                                               ├─ Content-Length: n ─▶ body-length ─(n bytes)─▶ done
 *                                               ├─ Transfer-Encoding: chunked
 *                                               │      ▼
 *                                               │  chunk-size ─(size > 0)─▶ chunk-data ─▶ chunk-end ─┐
 *                                               │      ▲   │ (size 0)                               │
 *                                               │      └───┼────────────────────────────────────────┘
 *                                               │          ▼
 *                                               │      trailers ─(empty line)─▶ done
 *                                               └─ neither ─▶ body-close ─(connection closed)─▶ done
 *
 *   any state ──(malformed or over a limit)──▶ failed     (the error sticks: feeding again rethrows it)
 * ```
 *
 * Line ends: CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF; this parser
 * does not, because two parsers that disagree on where a line ends disagree on where
 * a message ends, and that gap is what response splitting lives in. Node's own parser
 * (llhttp 9) refuses bare LF in responses too. A bare CR is refused as §2.2 requires.
 * @module
 */
import { HttpError } from './catalog.ts';
import { planBody } from './_http_framing.ts';
import { checkChunkExtensions, isFieldChar, isHexDigit, isTchar, latin1 } from './_http_grammar.ts';

/** Size limits, checked as bytes arrive. */
export interface HttpParserLimits {
  /** Longest status line, CRLF excluded. */
  readonly maxStatusLineBytes: number;
  /** Longest header or trailer line, CRLF excluded. */
  readonly maxHeaderLineBytes: number;
  /** Most header lines in one head; also the most trailer lines. */
  readonly maxHeaderCount: number;
  /** Most bytes in the head (status line, header lines, CRLFs, interim heads); also in the trailers. */
  readonly maxHeaderBytes: number;
  /** Largest body, after removing the chunked coding. */
  readonly maxBodyBytes: number;
  /** Longest chunk-size line, extensions included, CRLF excluded. */
  readonly maxChunkLineBytes: number;
}

// #region limits
/** The default limits: Node's 16 KiB header cap, 100 headers, an 8 MiB body. */
export const DEFAULT_HTTP_LIMITS: HttpParserLimits = {
  maxStatusLineBytes: 2048,
  maxHeaderLineBytes: 8192,
  maxHeaderCount: 100,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 8 * 1024 * 1024,
  maxChunkLineBytes: 1024,
};
// #endregion limits

/** One header or trailer field: its name as received and its value with the surrounding whitespace removed. */
export type HttpHeader = readonly [name: string, value: string];

/** A response's status line and header section. */
export interface HttpResponseHead {
  /** The protocol version, `'1.1'` or `'1.0'` (any `1.x`). */
  readonly version: string;
  /** The three-digit status code. */
  readonly status: number;
  /** The reason phrase; may be empty, and clients should not rely on it. */
  readonly reason: string;
  /** The header fields in the order received. */
  readonly headers: readonly HttpHeader[];
}

/** How the body's end was found (RFC 9112 §6.3). */
export type HttpBodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A complete response. */
export interface HttpResponse extends HttpResponseHead {
  /** How the body's end was found. */
  readonly framing: HttpBodyFraming;
  /** The body, with the chunked coding removed. */
  readonly body: Uint8Array;
  /** Trailer fields of a chunked body, kept apart from the headers (RFC 9110 §6.5). */
  readonly trailers: readonly HttpHeader[];
  /** Interim 1xx heads (100 Continue, 103 Early Hints) received before this response. */
  readonly interim: readonly HttpResponseHead[];
}

/** The parser's states, as drawn in the module diagram. */
export type HttpParserState =
  | 'status-line'
  | 'headers'
  | 'body-length'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'body-close'
  | 'done'
  | 'failed';

/** Options of {@link HttpResponseParser}. */
export interface HttpParserOptions {
  /** Limits to override; the rest come from {@link DEFAULT_HTTP_LIMITS}. */
  readonly limits?: Partial<HttpParserLimits>;
  /** The request's method: a response to `HEAD` has no body whatever its headers say. */
  readonly requestMethod?: string;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;

/** Which code a failure gets in each line-reading state. */
type LineState = 'status-line' | 'headers' | 'chunk-size' | 'chunk-end' | 'trailers';

/**
 * Parses one HTTP/1.1 response from chunks of bytes.
 *
 * @example
 * const parser = new HttpResponseParser({ requestMethod: 'GET' });
 * for await (const chunk of socket) {
 *   parser.feed(chunk);
 *   if (parser.state === 'done') break;
 * }
 * const response = parser.end();
 */
export class HttpResponseParser {
  readonly #limits: HttpParserLimits;
  readonly #noBody: boolean;
  #state: HttpParserState = 'status-line';
  #error: unknown = undefined;
  /** The line being collected, CR included, LF not. */
  readonly #line: Uint8Array;
  #lineLength = 0;
  #received = 0;
  #headBytes = 0;
  #trailerBytes = 0;
  #version = '';
  #status = 0;
  #reason = '';
  #headers: [string, string][] = [];
  #trailers: [string, string][] = [];
  #interim: HttpResponseHead[] = [];
  #framing: HttpBodyFraming = 'none';
  #remaining = 0;
  #bodyBytes = 0;
  #body: Uint8Array[] = [];
  #result: HttpResponse | undefined;

  /** @param options - limits and the request method */
  constructor(options: HttpParserOptions = {}) {
    this.#limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(this.#limits)) {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`limit ${name} must be a whole number >= 0, got ${value}`);
    }
    this.#noBody = options.requestMethod?.toUpperCase() === 'HEAD';
    const { maxStatusLineBytes, maxHeaderLineBytes, maxChunkLineBytes } = this.#limits;
    this.#line = new Uint8Array(Math.max(maxStatusLineBytes, maxHeaderLineBytes, maxChunkLineBytes) + 2);
  }

  /** Where the parser is; `'done'` once a whole response has been read. */
  get state(): HttpParserState {
    return this.#state;
  }

  /** How many bytes the parser has consumed. */
  get received(): number {
    return this.#received;
  }

  /** The status line and headers, once the header section is complete. */
  get head(): HttpResponseHead | undefined {
    if (this.#state === 'status-line' || this.#state === 'headers' || this.#state === 'failed') return undefined;
    return { version: this.#version, status: this.#status, reason: this.#reason, headers: this.#headers };
  }

  // #region feed
  /**
   * Consumes bytes of the response. Stops at the end of the response: bytes after it
   * are not consumed (the returned count tells how many were).
   * @param chunk - the next bytes from the connection, of any length
   * @returns how many bytes of `chunk` belong to this response
   * @throws {@link HttpError} with a parser code when the bytes break the grammar or a
   *   limit; the parser then stays failed and rethrows the same error
   */
  feed(chunk: Uint8Array): number {
    if (this.#state === 'failed') throw this.#error;
    let at = 0;
    try {
      while (at < chunk.length && this.#state !== 'done') {
        switch (this.#state) {
          case 'body-length':
          case 'chunk-data':
            at = this.#readCounted(chunk, at);
            break;
          case 'body-close':
            this.#addBody(chunk.subarray(at));
            at = chunk.length;
            break;
          default:
            at = this.#readLine(chunk, at, this.#state as LineState);
        }
      }
    } catch (error) {
      this.#fail(error);
    }
    this.#received += at;
    return at;
  }
  // #endregion feed

  // #region end
  /**
   * Tells the parser the connection has closed and returns the response.
   * @returns the complete response
   * @throws {@link HttpError} `E_HTTP_TRUNCATED` when the connection closed before the
   *   response was complete (only a body framed by the close itself may end here)
   */
  end(): HttpResponse {
    if (this.#state === 'failed') throw this.#error;
    if (this.#state === 'body-close') this.#finish();
    if (this.#state !== 'done') {
      const where = this.#received === 0 && this.#lineLength === 0 ? 'before sending any byte of a response' : this.#whereTruncated();
      this.#fail(new HttpError('E_HTTP_TRUNCATED', `Cannot read response: the connection closed ${where}`));
    }
    return this.result();
  }
  // #endregion end

  /**
   * The complete response.
   * @throws RangeError when called before the parser reached `'done'`
   */
  result(): HttpResponse {
    if (this.#result === undefined) throw new RangeError(`the response is not complete (state ${this.#state})`);
    return this.#result;
  }

  #whereTruncated(): string {
    switch (this.#state) {
      case 'status-line':
      case 'headers':
        return `inside the header section, after ${this.#received + this.#lineLength} bytes`;
      case 'body-length':
        return `after ${this.#bodyBytes - this.#remaining} of ${this.#bodyBytes} body bytes`;
      case 'trailers':
        return 'inside the trailer section';
      default:
        return `inside the chunked body, after ${this.#bodyBytes - this.#remaining} body bytes and before the last chunk`;
    }
  }

  #fail(error: unknown): never {
    this.#state = 'failed';
    // Anything but an HttpError is a bug in this parser: it is kept and rethrown as is,
    // so the fuzz tests see it instead of a plausible-looking code.
    this.#error = error;
    throw error;
  }

  /** Copies body bytes for a counted body or chunk; returns the new offset. */
  #readCounted(chunk: Uint8Array, at: number): number {
    const n = Math.min(this.#remaining, chunk.length - at);
    this.#body.push(new Uint8Array(chunk.subarray(at, at + n)));
    this.#remaining -= n;
    if (this.#remaining === 0) {
      if (this.#state === 'chunk-data') this.#state = 'chunk-end';
      else this.#finish();
    }
    return at + n;
  }

  /** Appends bytes of a body that ends when the connection closes. */
  #addBody(bytes: Uint8Array): void {
    if (this.#bodyBytes + bytes.length > this.#limits.maxBodyBytes) {
      throw new HttpError('E_HTTP_BODY_TOO_LARGE', `Cannot read response: the body exceeds max ${this.#limits.maxBodyBytes} bytes`);
    }
    this.#bodyBytes += bytes.length;
    this.#body.push(new Uint8Array(bytes));
  }

  // #region read-line
  /**
   * Collects one line into the line buffer, up to and including its LF. Refuses a
   * line as soon as it outgrows its limit, a bare LF, and a bare CR.
   */
  #readLine(chunk: Uint8Array, at: number, state: LineState): number {
    const lf = chunk.indexOf(LF, at);
    const end = lf === -1 ? chunk.length : lf;
    const n = end - at;
    const limit = this.#lineLimit(state);
    if (this.#lineLength + n > limit + 1) {
      throw this.#lineError(state, 'too-long', `is longer than max ${limit} bytes`);
    }
    const consumed = n + (lf === -1 ? 0 : 1);
    if (state === 'status-line' || state === 'headers') this.#checkSectionBytes('head', (this.#headBytes += consumed));
    if (state === 'trailers') this.#checkSectionBytes('trailer section', (this.#trailerBytes += consumed));
    this.#line.set(chunk.subarray(at, end), this.#lineLength);
    this.#lineLength += n;
    if (lf === -1) return chunk.length;
    const length = this.#lineLength;
    this.#lineLength = 0;
    if (length === 0 || this.#line[length - 1] !== CR) throw this.#lineError(state, 'syntax', 'ends in a bare LF; HTTP/1.1 lines end in CRLF');
    const content = this.#line.subarray(0, length - 1);
    if (content.includes(CR)) throw this.#lineError(state, 'syntax', 'contains a bare CR');
    this.#onLine(state, content);
    return lf + 1;
  }
  // #endregion read-line

  #lineLimit(state: LineState): number {
    switch (state) {
      case 'status-line':
        return this.#limits.maxStatusLineBytes;
      case 'headers':
      case 'trailers':
        return this.#limits.maxHeaderLineBytes;
      case 'chunk-size':
        return this.#limits.maxChunkLineBytes;
      case 'chunk-end':
        return 0;
    }
  }

  #checkSectionBytes(what: string, total: number): void {
    if (total > this.#limits.maxHeaderBytes) {
      throw new HttpError('E_HTTP_HEADER_TOO_LARGE', `Cannot read response: the ${what} exceeds max ${this.#limits.maxHeaderBytes} bytes`);
    }
  }

  #lineError(state: LineState, kind: 'too-long' | 'syntax', detail: string): HttpError {
    switch (state) {
      case 'status-line':
        return kind === 'too-long'
          ? new HttpError('E_HTTP_HEADER_TOO_LARGE', `Cannot read response: the status line ${detail}`)
          : new HttpError('E_HTTP_BAD_STATUS_LINE', `Cannot read response: the status line ${detail}`);
      case 'headers':
      case 'trailers': {
        const what = state === 'headers' ? 'header' : 'trailer';
        const number = (state === 'headers' ? this.#headers.length : this.#trailers.length) + 1;
        return kind === 'too-long'
          ? new HttpError('E_HTTP_HEADER_TOO_LARGE', `Cannot read response: ${what} line ${number} ${detail}`)
          : new HttpError('E_HTTP_BAD_HEADER', `Cannot read response: ${what} line ${number} ${detail}`);
      }
      case 'chunk-size':
        return new HttpError('E_HTTP_BAD_CHUNK', `Cannot read chunked body: a chunk-size line ${detail}`);
      case 'chunk-end':
        return new HttpError('E_HTTP_BAD_CHUNK', 'Cannot read chunked body: chunk data is not followed by CRLF');
    }
  }

  #onLine(state: LineState, line: Uint8Array): void {
    switch (state) {
      case 'status-line':
        this.#parseStatusLine(line);
        this.#state = 'headers';
        return;
      case 'headers':
        if (line.length === 0) this.#endOfHead();
        else this.#parseFieldLine(line, this.#headers, 'header');
        return;
      case 'chunk-size':
        this.#parseChunkSize(line);
        return;
      case 'chunk-end':
        this.#state = 'chunk-size';
        return;
      case 'trailers':
        if (line.length === 0) this.#finish();
        else this.#parseFieldLine(line, this.#trailers, 'trailer');
        return;
    }
  }

  // #region status-line
  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
  #parseStatusLine(line: Uint8Array): void {
    const text = latin1(line);
    const match = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/s.exec(text);
    const bad = (detail: string): HttpError =>
      new HttpError('E_HTTP_BAD_STATUS_LINE', `Cannot read response: the status line ${JSON.stringify(text.slice(0, 80))} ${detail}`);
    if (match === null) throw bad('is not "HTTP/1.1 <3-digit status> <reason>"');
    const [, major, minor, status, reason = ''] = match;
    if (major !== '1') throw bad(`has version ${major}.${minor}; this client speaks HTTP/1.x`);
    // RFC 9110 §15: a status code is 100-599; anything else is not a response to act on.
    if ((status as string) < '100' || (status as string) > '599') throw bad(`has status code ${status as string}, outside 100-599`);
    for (let i = 0; i < reason.length; i += 1) {
      if (!isFieldChar(reason.charCodeAt(i))) throw bad(`has control byte 0x${reason.charCodeAt(i).toString(16).padStart(2, '0')} in its reason phrase`);
    }
    this.#version = `${major}.${minor}`;
    this.#status = Number(status);
    this.#reason = reason;
  }
  // #endregion status-line

  // #region field-line
  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5); obs-fold unfolded (§5.2). */
  #parseFieldLine(line: Uint8Array, fields: [string, string][], what: 'header' | 'trailer'): void {
    const number = fields.length + 1;
    const bad = (detail: string): HttpError => new HttpError('E_HTTP_BAD_HEADER', `Cannot read response: ${what} line ${number} ${detail}`);
    const first = line[0] as number;
    if (first === SP || first === HTAB) {
      // A continuation line (obs-fold). A user agent must replace the fold with a space
      // (RFC 9112 §5.2); before the first field there is nothing to continue (§2.2).
      const last = fields.at(-1);
      if (last === undefined) throw bad('starts with whitespace right after the status line');
      const more = this.#fieldValue(line, 0, bad);
      last[1] = last[1] === '' ? more : more === '' ? last[1] : `${last[1]} ${more}`;
      return;
    }
    const colon = line.indexOf(0x3a);
    if (colon === -1) throw bad('has no colon');
    if (colon === 0) throw bad('has an empty field name');
    for (let i = 0; i < colon; i += 1) {
      const code = line[i] as number;
      if (!isTchar(code)) {
        throw bad(code === SP || code === HTAB ? 'has whitespace before the colon' : `has byte 0x${code.toString(16).padStart(2, '0')} in its field name`);
      }
    }
    if (fields.length >= this.#limits.maxHeaderCount) {
      throw new HttpError('E_HTTP_HEADER_TOO_LARGE', `Cannot read response: more than max ${this.#limits.maxHeaderCount} ${what} lines`);
    }
    fields.push([latin1(line.subarray(0, colon)), this.#fieldValue(line, colon + 1, bad)]);
  }

  /** The field value from `start`, without surrounding OWS; refuses CTLs and DEL (RFC 9110 §5.5). */
  #fieldValue(line: Uint8Array, start: number, bad: (detail: string) => HttpError): string {
    let from = start;
    let to = line.length;
    while (from < to && (line[from] === SP || line[from] === HTAB)) from += 1;
    while (to > from && (line[to - 1] === SP || line[to - 1] === HTAB)) to -= 1;
    for (let i = from; i < to; i += 1) {
      const code = line[i] as number;
      if (!isFieldChar(code)) throw bad(`has control byte 0x${code.toString(16).padStart(2, '0')} in its value`);
    }
    return latin1(line.subarray(from, to));
  }
  // #endregion field-line

  /** The header section is complete: skip an interim response, or decide how the body ends. */
  #endOfHead(): void {
    if (this.#status >= 100 && this.#status < 200 && this.#status !== 101) {
      // An interim response; the final one follows on the same connection (RFC 9110 §15.2).
      this.#interim.push({ version: this.#version, status: this.#status, reason: this.#reason, headers: this.#headers });
      this.#headers = [];
      this.#state = 'status-line';
      return;
    }
    const plan = planBody(this.#headers, { version: this.#version, status: this.#status, noBody: this.#noBody, maxBodyBytes: this.#limits.maxBodyBytes });
    this.#framing = plan.framing;
    if (plan.framing === 'none' || (plan.framing === 'length' && plan.length === 0)) this.#finish();
    else if (plan.framing === 'chunked') this.#state = 'chunk-size';
    else if (plan.framing === 'close') this.#state = 'body-close';
    else {
      this.#remaining = plan.length;
      this.#bodyBytes = plan.length;
      this.#state = 'body-length';
    }
  }

  // #region chunk-size
  /** chunk-size [ chunk-ext ] CRLF, with chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) (§7.1). */
  #parseChunkSize(line: Uint8Array): void {
    const bad = (detail: string): HttpError => new HttpError('E_HTTP_BAD_CHUNK', `Cannot read chunked body: ${detail}`);
    let at = 0;
    while (at < line.length && isHexDigit(line[at] as number)) at += 1;
    if (at === 0) throw bad(`chunk-size line ${JSON.stringify(latin1(line.subarray(0, 40)))} does not start with a hex size`);
    const hex = latin1(line.subarray(0, at)).replace(/^0+(?=.)/, '');
    checkChunkExtensions(line, at, bad);
    // Guard against integer overflow (§7.1): more than 12 hex digits exceed 2^48 bytes.
    const size = hex.length > 12 ? Number.POSITIVE_INFINITY : Number.parseInt(hex, 16);
    if (size === 0) {
      this.#state = 'trailers';
      return;
    }
    if (this.#bodyBytes + size > this.#limits.maxBodyBytes) {
      throw new HttpError('E_HTTP_BODY_TOO_LARGE', `Cannot read response: the chunked body exceeds max ${this.#limits.maxBodyBytes} bytes`);
    }
    this.#bodyBytes += size;
    this.#remaining = size;
    this.#state = 'chunk-data';
  }
  // #endregion chunk-size

  #finish(): void {
    const body = new Uint8Array(this.#body.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of this.#body) {
      body.set(part, offset);
      offset += part.length;
    }
    this.#body = [];
    this.#result = {
      version: this.#version,
      status: this.#status,
      reason: this.#reason,
      headers: this.#headers,
      framing: this.#framing,
      body,
      trailers: this.#trailers,
      interim: this.#interim,
    };
    this.#state = 'done';
  }
}

// #region parse-whole
/**
 * Parses a whole response held in memory, the connection's close included.
 * @param bytes - every byte the server sent
 * @param options - limits and the request method
 * @returns the response
 * @throws {@link HttpError} with a parser code, or `E_HTTP_TRUNCATED` when the bytes end early
 */
export function parseHttpResponse(bytes: Uint8Array, options: HttpParserOptions = {}): HttpResponse {
  const parser = new HttpResponseParser(options);
  parser.feed(bytes);
  return parser.end();
}
// #endregion parse-whole

/**
 * The values of every field named `name` (case-insensitive), in order.
 * @param fields - headers or trailers
 * @param name - the field name
 */
export function headerValues(fields: readonly HttpHeader[], name: string): string[] {
  const lower = name.toLowerCase();
  return fields.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * The value of the field named `name`, repeated fields joined with `", "` as RFC 9110
 * §5.3 allows (not for Set-Cookie); `undefined` when absent.
 */
export function headerValue(fields: readonly HttpHeader[], name: string): string | undefined {
  const values = headerValues(fields, name);
  return values.length === 0 ? undefined : values.join(', ');
}
