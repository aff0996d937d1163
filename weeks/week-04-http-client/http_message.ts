/**
 * Writing HTTP/1.1 messages: the request the client sends, and a plain response a
 * small server (or a test) can send back. Every name and value is checked before a
 * byte is produced, so a request id read from the command line can never smuggle a
 * CRLF into the header section (header injection).
 * @module
 */
import { concatBytes } from '../../lib/bytes.ts';
import { HttpError } from './catalog.ts';
import type { HttpHeader } from './http_parser.ts';

const encoder = new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * A field value as this encoder writes it: visible ASCII with spaces or tabs inside,
 * none around (RFC 9110 §5.5). Receivers must also accept obs-text; senders need not
 * produce it, and leaving it out keeps one character one byte.
 */
const FIELD_VALUE = /^(?:[\x21-\x7E](?:[ \t]*[\x21-\x7E])*)?$/;
/** An origin-form target: a path and query of visible ASCII (RFC 9112 §3.2.1). */
const ORIGIN_FORM = /^\/[\x21-\x7E]*$/;

/** What {@link encodeHttpRequest} writes. */
export interface HttpRequestSpec {
  /** The method, a token: `GET`, `POST`, `HEAD`. */
  readonly method: string;
  /** The origin-form target: `/healthz?verbose=1`. */
  readonly target: string;
  /** The Host header value: `127.0.0.1:8080`. */
  readonly host: string;
  /** Further header fields, written in order after Host. */
  readonly headers?: readonly HttpHeader[];
  /** The body; when present (or for POST) a Content-Length header is added. */
  readonly body?: Uint8Array;
}

/**
 * Checks that a header field can be written as is.
 * @throws {@link HttpError} `E_HTTP_BAD_REQUEST` naming the field
 */
export function checkHeaderField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write header ${JSON.stringify(name)}: a field name must be a token`);
  if (!FIELD_VALUE.test(value)) {
    throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write header ${name}: the value ${JSON.stringify(value)} has a control character or surrounding whitespace`);
  }
}

// #region encode-request
/**
 * Serialises a request: request line, Host, the given headers, Content-Length when
 * there is a body, the empty line, the body.
 * @throws {@link HttpError} `E_HTTP_BAD_REQUEST` for a method that is not a token, a
 *   target that is not origin-form, a header that cannot be written, or a
 *   Content-Length/Transfer-Encoding header given by the caller (the encoder owns framing)
 */
export function encodeHttpRequest(spec: HttpRequestSpec): Uint8Array {
  if (!TOKEN.test(spec.method)) throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write request: method ${JSON.stringify(spec.method)} is not a token`);
  if (!ORIGIN_FORM.test(spec.target)) throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write request: target ${JSON.stringify(spec.target)} is not a path`);
  const lines = [`${spec.method} ${spec.target} HTTP/1.1`];
  checkHeaderField('Host', spec.host);
  lines.push(`Host: ${spec.host}`);
  for (const [name, value] of spec.headers ?? []) {
    if (/^(content-length|transfer-encoding)$/i.test(name)) {
      throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write header ${name}: the encoder sets the body framing itself`);
    }
    checkHeaderField(name, value);
    lines.push(`${name}: ${value}`);
  }
  if (spec.body !== undefined || spec.method === 'POST') lines.push(`Content-Length: ${spec.body?.length ?? 0}`);
  return concatBytes([encoder.encode(`${lines.join('\r\n')}\r\n\r\n`), spec.body ?? new Uint8Array(0)]);
}
// #endregion encode-request

/** What {@link encodeHttpResponse} writes. */
export interface HttpResponseSpec {
  /** The status code, 100-999. */
  readonly status: number;
  /** The reason phrase (default empty). */
  readonly reason?: string;
  /** Header fields other than Content-Length, in order. */
  readonly headers?: readonly HttpHeader[];
  /** The body (default empty). */
  readonly body?: Uint8Array | string;
}

/**
 * Serialises a response framed by Content-Length, for small servers such as a
 * health endpoint and for tests.
 * @throws {@link HttpError} `E_HTTP_BAD_REQUEST` for a header or reason that cannot be
 *   written
 * @throws RangeError for a status outside 100-999
 */
export function encodeHttpResponse(spec: HttpResponseSpec): Uint8Array {
  if (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 999) throw new RangeError(`status must be 100-999, got ${spec.status}`);
  const reason = spec.reason ?? '';
  if (!/^[\t\x20-\x7E]*$/.test(reason)) throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write reason ${JSON.stringify(reason)}: it has a control character`);
  const body = typeof spec.body === 'string' ? encoder.encode(spec.body) : (spec.body ?? new Uint8Array(0));
  const lines = [`HTTP/1.1 ${spec.status} ${reason}`];
  for (const [name, value] of spec.headers ?? []) {
    if (/^(content-length|transfer-encoding)$/i.test(name)) {
      throw new HttpError('E_HTTP_BAD_REQUEST', `Cannot write header ${name}: the encoder sets the body framing itself`);
    }
    checkHeaderField(name, value);
    lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.length}`);
  return concatBytes([encoder.encode(`${lines.join('\r\n')}\r\n\r\n`), body ?? new Uint8Array(0)]);
}
