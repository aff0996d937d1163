/**
 * The hash-bearing message: version 2 of week 2's framed message. The header line
 * now uses the protocol envelope's field names and carries `payload_hash`, the
 * lowercase hex SHA-256 of the exact body bytes, and it is written in JCS canonical
 * form:
 *
 * ```
 * {"msg_type":"echo","payload_hash":"9f86…0a08","request_id":"c1-000001","version":2}\n<body bytes …>
 * └──────── header: canonical JSON, at most 1024 bytes, members sorted ───────────┘  └─ payload ─┘
 * ```
 *
 * Version rule. A reader accepts every version it knows and refuses any other with
 * a stable code; it never guesses at fields it does not know. A writer writes the
 * newest version its peer is known to read. Version 1 (week 2: `{"v":1,"type",…}`,
 * no hash) is read by this module only under an explicit legacy policy; a week-2
 * reader refuses version 2 with `E_MESSAGE_MALFORMED` before touching the body, so
 * old and new meet on a clean, definite refusal or on version 1, never on a misread.
 * @module
 */
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { MAX_MESSAGE_HEADER_BYTES, MESSAGE_TYPES, encodeFrame, frameMessage, isRequestId, parseMessage } from '../../lib/framing.ts';
import type { EchoMessage, Logger, MessageType } from '../../lib/framing.ts';
import { HASH_ERRORS } from './catalog.ts';
import { canonicalize } from './jcs.ts';
import { isSha256Hex, toHex } from './hex.ts';
import { sha256 } from './sha256.ts';
import { parseStrictJson } from './strict_json.ts';

const fail = errorFactory(HASH_ERRORS);

/** The hash-bearing message version this module writes. */
export const HASHED_MESSAGE_VERSION = 2;

/** The message versions this module reads: week 2's (legacy) and its own. */
export const KNOWN_MESSAGE_VERSIONS = [1, 2] as const;

/** What a reader does with a version 1 message, which carries no hash. */
export type LegacyPolicy = 'accept' | 'refuse';

/** A one-shot SHA-256: pure by default, node:crypto where the caller has it. */
export type DigestFunction = (bytes: Uint8Array) => Uint8Array;

/** A message as read, with what its version could vouch for. */
export interface ReadMessage {
  /** The message itself, as week 2 defines it; the body is a view into the payload. */
  readonly message: EchoMessage;
  /** The version it arrived in. */
  readonly version: 1 | 2;
  /** The verified payload hash (version 2), or undefined for an unhashed legacy message. */
  readonly payloadHash?: string;
}

/** Options of {@link readHashedMessage}. */
export interface ReadOptions {
  /** Whether a version 1 message is accepted. Default `refuse`: hashed inputs only. */
  readonly legacy?: LegacyPolicy;
  /** Where a rejected message is audited (a warn record per rejection). */
  readonly logger?: Logger;
  /** The SHA-256 to use; default the pure {@link sha256}. */
  readonly digest?: DigestFunction;
}

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const ERROR_CODE = /^E_[A-Z0-9_]{1,64}$/;

/** The header of a version 2 message, as an object (before canonicalisation). */
function headerOf(message: EchoMessage, payloadHash: string): Record<string, string | number> {
  if (!isRequestId(message.requestId)) throw new TypeError(`invalid request id ${JSON.stringify(message.requestId)}`);
  const header: Record<string, string | number> = {
    version: HASHED_MESSAGE_VERSION, msg_type: message.type, request_id: message.requestId, payload_hash: payloadHash,
  };
  if (message.type === 'error') {
    if (message.errorCode === undefined || !ERROR_CODE.test(message.errorCode)) {
      throw new TypeError(`an error message needs an E_* error code, got ${JSON.stringify(message.errorCode)}`);
    }
    header.error_code = message.errorCode;
  }
  return header;
}

// #region frame-hashed
/**
 * Encodes and frames a message. Version 2 (the default) puts the SHA-256 of the body
 * in a canonical header; version 1 writes week 2's format unchanged, for peers that
 * only read that.
 * @param message - the message
 * @param options - `version` to write (default 2), `digest` to use, `maxFrameBytes`
 * @returns one frame: 4-byte length, header line, newline, body
 * @throws {@link CivicError} `E_FRAME_OVERSIZE` when the payload would exceed the maximum
 */
export function frameHashedMessage(
  message: EchoMessage,
  options: { version?: 1 | 2; digest?: DigestFunction; maxFrameBytes?: number } = {},
): Uint8Array {
  if (options.version === 1) return frameMessage(message, options.maxFrameBytes);
  const payloadHash = toHex((options.digest ?? sha256)(message.body));
  const header = encoder.encode(canonicalize(headerOf(message, payloadHash)));
  if (header.length > MAX_MESSAGE_HEADER_BYTES) throw new TypeError('message header is too long');
  const payload = new Uint8Array(header.length + 1 + message.body.length);
  payload.set(header, 0);
  payload[header.length] = NEWLINE;
  payload.set(message.body, header.length + 1);
  // Week 2's framing, unchanged: the length prefix and the size limit.
  return encodeFrame(payload, options.maxFrameBytes);
}
// #endregion frame-hashed

/** The error for a header that is not a version 2 header. */
function malformed(why: string, cause?: unknown) {
  return fail('E_HASH_MALFORMED', `Cannot read hashed message: ${why}`, cause);
}

/** Logs one rejected message as a structured warn record; logging never throws. */
function audit(logger: Logger | undefined, code: string, requestId: string | undefined, fields: Record<string, string | number>): void {
  logger?.warn('message rejected by integrity check', {
    requestId,
    fields: { result: 'rejected', error_code: code, ...fields },
  });
}

// #region read-hashed
/**
 * Reads one frame payload as a message of a known version, checking the payload
 * hash of version 2 before anything else looks at the body.
 * @param payload - one decoded frame payload
 * @param options - the legacy policy, the audit logger and the digest
 * @returns the message, its version and its verified hash
 * @throws {@link CivicError} `E_HASH_MISMATCH` (audited) when the body's SHA-256
 *   differs from `payload_hash`; `E_HASH_MALFORMED` for a header that is not
 *   canonical strict JSON with exactly the version 2 fields, or an unknown version;
 *   `E_HASH_UNHASHED` (audited) for version 1 under the `refuse` policy;
 *   `E_MESSAGE_MALFORMED` for a malformed version 1 message
 */
export function readHashedMessage(payload: Uint8Array, options: ReadOptions = {}): ReadMessage {
  const newline = payload.subarray(0, MAX_MESSAGE_HEADER_BYTES + 1).indexOf(NEWLINE);
  if (newline === -1) throw malformed(`no header line within the first ${MAX_MESSAGE_HEADER_BYTES + 1} bytes`);
  const line = payload.subarray(0, newline);
  let header: unknown;
  try {
    header = parseStrictJson(line, { maxDepth: 1 });
  } catch (error) {
    throw malformed(`the header line is not strict JSON (${isCivicError(error) ? error.code : 'error'})`, error);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('the header is not a JSON object');
  const fields = header as Record<string, unknown>;
  // 1. Dispatch on the version. Week 2 wrote "v"; the envelope names it "version".
  if ('v' in fields && !('version' in fields)) {
    const message = parseMessage(payload); // week 2's own rules, E_MESSAGE_MALFORMED
    if ((options.legacy ?? 'refuse') === 'refuse') {
      audit(options.logger, 'E_HASH_UNHASHED', message.requestId, { version: 1 });
      throw fail('E_HASH_UNHASHED', `Cannot accept message ${message.requestId}: version 1 carries no payload_hash and the legacy policy is refuse`);
    }
    return { message, version: 1 };
  }
  const { version, msg_type: type, request_id: requestId, payload_hash: claimed, error_code: errorCode } = fields;
  if (version !== HASHED_MESSAGE_VERSION) {
    throw malformed(`version ${JSON.stringify(version)} is unknown (this reader knows ${KNOWN_MESSAGE_VERSIONS.join(' and ')})`);
  }
  // 2. Exactly the version 2 fields, well formed, in canonical form.
  if (!MESSAGE_TYPES.includes(type as MessageType)) throw malformed(`unknown msg_type ${JSON.stringify(type)}`);
  if (typeof requestId !== 'string' || !isRequestId(requestId)) throw malformed('the request id is missing or not well formed');
  if (typeof claimed !== 'string' || !isSha256Hex(claimed)) throw malformed('payload_hash is not 64 lowercase hex digits');
  if (type === 'error' ? typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode) : errorCode !== undefined) {
    throw malformed('error_code belongs to error messages only, and must look like E_NAME');
  }
  if (Object.keys(fields).length !== (errorCode === undefined ? 4 : 5)) throw malformed('the header has fields version 2 does not define');
  const canonical = encoder.encode(canonicalize(fields));
  if (canonical.length !== line.length || canonical.some((byte, i) => byte !== line[i])) {
    throw malformed('the header is not in canonical (RFC 8785) form');
  }
  // 3. The hash, over the exact body bytes, before anyone reads them.
  const body = payload.subarray(newline + 1);
  const actual = toHex((options.digest ?? sha256)(body));
  if (actual !== claimed) {
    audit(options.logger, 'E_HASH_MISMATCH', requestId, { expected_hash: claimed, actual_hash: actual, payload_bytes: body.length });
    throw fail('E_HASH_MISMATCH', `Cannot accept message ${requestId}: payload SHA-256 ${actual} differs from payload_hash ${claimed}`);
  }
  const message: EchoMessage = typeof errorCode === 'string'
    ? { type: type as MessageType, requestId, body, errorCode }
    : { type: type as MessageType, requestId, body };
  return { message, version: 2, payloadHash: claimed };
}
// #endregion read-hashed
