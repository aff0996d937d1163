/**
 * The echo message: what one frame's payload holds. A header line of JSON naming the
 * version, the message type and the request id, a newline, then the body bytes.
 *
 * ```
 * {"v":1,"type":"echo","request_id":"c1-000001"}\n<body bytes …>
 * └──────────── header: at most 1024 bytes ────┘  └── the rest of the payload ──┘
 * ```
 *
 * The server answers an `echo` with an `echo_reply` carrying the same request id and
 * body, or with an `error` whose header adds `error_code` and whose body is the error
 * message as UTF-8. A JSON header keeps the format readable in a packet capture and
 * lets later weeks add fields under a new version; the body stays raw bytes, so
 * binary payloads need no escaping.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { isRequestId } from '../../lib/logger.ts';
import { FRAME_ERRORS } from './catalog.ts';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from './frame.ts';

const fail = errorFactory(FRAME_ERRORS);

/** The message format version this code writes and accepts. */
export const MESSAGE_VERSION = 1;

/** The largest header line, newline excluded. */
export const MAX_MESSAGE_HEADER_BYTES = 1024;

/** The message types: a request, its reply, and an error answer. */
export const MESSAGE_TYPES = ['echo', 'echo_reply', 'error'] as const;

/** One of {@link MESSAGE_TYPES}. */
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** One decoded echo message. */
export interface EchoMessage {
  /** What the message is. */
  readonly type: MessageType;
  /** The request this message belongs to; a reply repeats its request's id. */
  readonly requestId: string;
  /** The body bytes (for `error`, the error message as UTF-8). */
  readonly body: Uint8Array;
  /** For `error` only: the `E_*` code of the failure. */
  readonly errorCode?: string;
}

const ERROR_CODE = /^E_[A-Z0-9_]{1,64}$/;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
/** Reused: a fatal decoder keeps no state between whole `decode` calls, and making one per message is costly. */
const decoder = new TextDecoder('utf-8', { fatal: true });

// Week 1 owns the one request-id validator; the message header uses it, and so does
// everything that imports it from here.
export { isRequestId };

// #region frame-message
/**
 * Encodes a message and frames it as two parts to write back to back: the *head*
 * (frame header, message header line, newline) in one new small buffer, and the body
 * itself, not copied.
 * @param message - the message; its request id must pass {@link isRequestId}
 * @param maxFrameBytes - the largest frame payload allowed
 * @returns `[head, body]`
 * @throws {@link CivicError} `E_FRAME_OVERSIZE` when the payload would exceed the maximum
 * @throws TypeError for a request id or error code that is not well formed
 */
export function frameMessageParts(message: EchoMessage, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): [Uint8Array, Uint8Array] {
  const header = encoder.encode(headerJson(message));
  const length = header.length + 1 + message.body.length;
  if (length > maxFrameBytes) {
    throw fail('E_FRAME_OVERSIZE', `Cannot encode frame: length ${length} exceeds max ${maxFrameBytes}`);
  }
  const head = new Uint8Array(FRAME_HEADER_BYTES + header.length + 1);
  new DataView(head.buffer).setUint32(0, length, false);
  head.set(header, FRAME_HEADER_BYTES);
  head[head.length - 1] = NEWLINE;
  return [head, message.body];
}

/**
 * Encodes a message and frames it in one buffer: frame header, message header line,
 * newline, body.
 * @param message - the message; its request id must pass {@link isRequestId}
 * @param maxFrameBytes - the largest frame payload allowed
 * @returns the whole frame, ready to write
 * @throws {@link CivicError} `E_FRAME_OVERSIZE` when the payload would exceed the maximum
 * @throws TypeError for a request id or error code that is not well formed
 */
export function frameMessage(message: EchoMessage, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  const [head, body] = frameMessageParts(message, maxFrameBytes);
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head, 0);
  frame.set(body, head.length);
  return frame;
}

/** Parts below this size are copied together; larger ones are written where they lie. */
const COALESCE_BELOW = 1024;

/**
 * Prepares frame parts for one batched write: runs of small parts are joined into one
 * buffer (fewer pieces for the kernel), large parts are passed through uncopied.
 * @param parts - heads and bodies, in the order they must go out
 * @returns buffers to write in order, ideally inside one cork/uncork (a single writev)
 */
export function coalesceParts(parts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) out.push(run[0] as Uint8Array);
    else if (run.length > 1) {
      const joined = new Uint8Array(runBytes);
      let offset = 0;
      for (const part of run) {
        joined.set(part, offset);
        offset += part.length;
      }
      out.push(joined);
    }
    run = [];
    runBytes = 0;
  };
  for (const part of parts) {
    if (part.length >= COALESCE_BELOW) {
      flush();
      out.push(part);
    } else if (part.length > 0) {
      run.push(part);
      runBytes += part.length;
    }
  }
  flush();
  return out;
}
// #endregion frame-message

/** The header line's JSON, with its fields in a fixed order. */
function headerJson(message: EchoMessage): string {
  if (!isRequestId(message.requestId)) throw new TypeError(`invalid request id ${JSON.stringify(message.requestId)}`);
  if (message.type !== 'error') {
    // The common case, without building an object: neither the type nor a well-formed
    // request id contains a character JSON would escape.
    return `{"v":${MESSAGE_VERSION},"type":"${message.type}","request_id":"${message.requestId}"}`;
  }
  const header: Record<string, string | number> = { v: MESSAGE_VERSION, type: message.type, request_id: message.requestId };
  if (message.type === 'error') {
    if (message.errorCode === undefined || !ERROR_CODE.test(message.errorCode)) {
      throw new TypeError(`an error message needs an E_* error code, got ${JSON.stringify(message.errorCode)}`);
    }
    header.error_code = message.errorCode;
  }
  const json = JSON.stringify(header);
  if (json.length > MAX_MESSAGE_HEADER_BYTES) throw new TypeError('message header is too long');
  return json;
}

/** A version 1 request or reply header exactly as {@link frameMessage} writes it. */
const CANONICAL_HEADER = /^\{"v":1,"type":"(echo|echo_reply)","request_id":"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"\}$/;

/** The header fields of version 1. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['v', 'type', 'request_id', 'error_code']);

/** The error for a payload that is not a message. */
function malformed(why: string) {
  return fail('E_MESSAGE_MALFORMED', `Cannot parse message: ${why}`);
}

/** A JSON string token; outside strings a flat object has no quote, so a scan from the start finds exactly its strings. */
const STRING_TOKEN = /"(?:[^"\\]|\\.)*"\s*(:?)/g;

/**
 * The first member name that a header line repeats, if any. `JSON.parse` keeps the
 * last of two equal names, so `{"request_id":"a","request_id":"b"}` would pass as one
 * member. Only a flat header is scanned (one with a nested value is refused by the
 * field checks anyway); in it, a string token followed by a colon is a member name.
 */
function duplicateMember(line: string, header: object): string | undefined {
  if (Object.values(header).some((value) => typeof value === 'object' && value !== null)) return undefined;
  const seen = new Set<string>();
  for (const match of line.matchAll(STRING_TOKEN)) {
    if (match[1] !== ':') continue;
    const name = JSON.parse(match[0].slice(0, match[0].lastIndexOf('"') + 1)) as string;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

// #region parse-message
/**
 * Parses one frame payload as a message, refusing anything {@link frameMessage} would
 * not write. The body is a view into `payload`, not a copy.
 * @param payload - one decoded frame payload
 * @returns the message
 * @throws {@link CivicError} `E_MESSAGE_MALFORMED` saying what is wrong
 */
export function parseMessage(payload: Uint8Array): EchoMessage {
  const newline = payload.subarray(0, MAX_MESSAGE_HEADER_BYTES + 1).indexOf(NEWLINE);
  if (newline === -1) throw malformed(`no header line within the first ${MAX_MESSAGE_HEADER_BYTES + 1} bytes`);
  let line: string;
  try {
    line = decoder.decode(payload.subarray(0, newline));
  } catch {
    throw malformed('the header line is not UTF-8');
  }
  // Fast path: the exact form frameMessage writes. It is valid JSON with the meaning
  // checked below, so taking it by pattern accepts and refuses exactly the same lines.
  const canonical = CANONICAL_HEADER.exec(line);
  if (canonical !== null) return { type: canonical[1] as MessageType, requestId: canonical[2] as string, body: payload.subarray(newline + 1) };
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    throw malformed('the header line is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('the header is not a JSON object');
  const duplicate = duplicateMember(line, header);
  if (duplicate !== undefined) throw malformed(`header field ${JSON.stringify(duplicate)} appears twice`);
  const { v, type, request_id: requestId, error_code: errorCode } = header as Record<string, unknown>;
  if (v !== MESSAGE_VERSION) throw malformed(`version ${JSON.stringify(v)} is not ${MESSAGE_VERSION}`);
  if (!MESSAGE_TYPES.includes(type as MessageType)) throw malformed(`unknown type ${JSON.stringify(type)}`);
  if (typeof requestId !== 'string' || !isRequestId(requestId)) throw malformed('the request id is missing or not well formed');
  if (type === 'error' ? typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode) : errorCode !== undefined) {
    throw malformed('error_code belongs to error messages only, and must look like E_NAME');
  }
  const fields = Object.keys(header);
  if (fields.length !== (errorCode === undefined ? 3 : 4)) {
    throw malformed(`unknown header field ${JSON.stringify(fields.find((f) => !KNOWN_FIELDS.has(f)))}`);
  }
  const body = payload.subarray(newline + 1);
  return typeof errorCode === 'string'
    ? { type: type as MessageType, requestId, body, errorCode }
    : { type: type as MessageType, requestId, body };
}
// #endregion parse-message
