/**
 * The record format of the append-only log: one JSON object per line, encoded and
 * size-checked in memory before any I/O, parsed back strictly.
 *
 * ```
 * {"ts":"2026-11-25T12:00:00.000Z","id":"r-000001","level":"info","msg":"hello","request_id":"q-7"}\n
 * └──────────────────────── at most maxBytes bytes, newline included ─────────────────────────────┘
 * ```
 * @module
 */
import { errorFactory } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';

const fail = errorFactory(LOG_ERRORS);

/** The severities a record may carry, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A value of an extra record field: JSON scalars only, so every record stays one flat line. */
export type FieldValue = string | number | boolean | null;

/** One record of the log, as written and as read back. */
export interface LogRecord {
  /** When the record was made: an ISO 8601 UTC timestamp from the injected clock. */
  readonly ts: string;
  /** A unique id from the injected id source. */
  readonly id: string;
  /** The severity. */
  readonly level: LogLevel;
  /** The message: non-empty text. */
  readonly msg: string;
  /** The request this record belongs to, so one request can be followed across processes. */
  readonly request_id?: string;
  /** Further flat fields (later weeks add `node_id`, `latency_ms`, `error_code`, ...). */
  readonly fields?: Readonly<Record<string, FieldValue>>;
}

/** The default maximum size of one encoded record, newline included. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

/** The largest maximum a caller may choose: 1 MiB. */
export const MAX_RECORD_BYTES_LIMIT = 1024 * 1024;

// #region request-id
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * True when `id` may be used as a request id: 1-128 characters of `A-Z a-z 0-9 . _ : -`,
 * not starting with punctuation. The one validator for request ids: the log's
 * `--request-id`, the echo message header, envelopes and KV commands all use it.
 */
export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}
// #endregion request-id

const RESERVED = new Set(['ts', 'id', 'level', 'msg', 'request_id']);
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const encoder = new TextEncoder();

/** True when `name` may be used as an extra field name: lower snake case, not a core field. */
export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && !RESERVED.has(name);
}

// #region encode-record
/**
 * Renders a record as its JSON text, with the field order fixed (core fields, then
 * extra fields sorted by name) so that equal records always give equal bytes.
 * @throws {@link CivicError} `E_RECORD_EMPTY` for an empty message,
 *   `E_RECORD_ENCODING` for text that is not well-formed Unicode
 */
export function recordToJson(record: LogRecord): string {
  if (record.msg.length === 0) throw fail('E_RECORD_EMPTY', 'Cannot append record: the message is empty');
  const ordered: Record<string, FieldValue> = { ts: record.ts, id: record.id, level: record.level, msg: record.msg };
  if (record.request_id !== undefined) ordered.request_id = record.request_id;
  for (const name of Object.keys(record.fields ?? {}).sort()) {
    if (!isFieldName(name)) throw new TypeError(`invalid field name ${JSON.stringify(name)}`);
    ordered[name] = (record.fields as Record<string, FieldValue>)[name] as FieldValue;
  }
  for (const value of Object.values(ordered)) {
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
      throw fail('E_RECORD_ENCODING', 'Cannot append record: the text contains a lone surrogate');
    }
  }
  return JSON.stringify(ordered);
}

/**
 * Encodes a record as one JSON line and checks its size, all in memory, so that an
 * oversize or malformed record is refused before the log file is even opened.
 * @param record - the record to encode
 * @param maxBytes - the largest encoded size allowed, newline included
 * @returns the UTF-8 bytes of the line, ending in `\n`
 * @throws {@link CivicError} `E_RECORD_EMPTY`, `E_RECORD_ENCODING` (see
 *   {@link recordToJson}), or `E_RECORD_TOO_LARGE` when the line exceeds `maxBytes`
 */
export function encodeRecord(record: LogRecord, maxBytes: number = DEFAULT_MAX_RECORD_BYTES): Uint8Array {
  const line = encoder.encode(recordToJson(record) + '\n');
  if (line.length > maxBytes) {
    throw fail('E_RECORD_TOO_LARGE', `Cannot append record: ${line.length} bytes exceeds max ${maxBytes}`);
  }
  return line;
}
// #endregion encode-record

/**
 * Parses one line of the log (without its newline) back into a record, refusing
 * anything the encoder would not have written.
 * @param line - the line's bytes
 * @param lineNo - its 1-based line number, for the error message
 * @throws {@link CivicError} `E_LOG_CORRUPT` naming the line and what is wrong with it
 */
export function parseRecordLine(line: Uint8Array, lineNo: number): LogRecord {
  const corrupt = (why: string) => fail('E_LOG_CORRUPT', `Cannot read record: line ${lineNo} ${why}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    throw corrupt('is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt('is not a JSON object');
  const { ts, id, level, msg, request_id: requestId, ...rest } = value as Record<string, unknown>;
  if (typeof ts !== 'string' || !ISO_UTC.test(ts)) throw corrupt('has no valid "ts"');
  if (typeof id !== 'string' || id.length === 0) throw corrupt('has no valid "id"');
  if (!LOG_LEVELS.includes(level as LogLevel)) throw corrupt('has no valid "level"');
  if (typeof msg !== 'string' || msg.length === 0) throw corrupt('has no valid "msg"');
  if (requestId !== undefined && typeof requestId !== 'string') throw corrupt('has a non-string "request_id"');
  const fields: Record<string, FieldValue> = {};
  for (const [name, field] of Object.entries(rest)) {
    if (!isFieldName(name)) throw corrupt(`has an invalid field name ${JSON.stringify(name)}`);
    if (field !== null && typeof field === 'object') throw corrupt(`has a nested value in "${name}"`);
    fields[name] = field as FieldValue;
  }
  return {
    ts, id, level: level as LogLevel, msg,
    ...(requestId === undefined ? {} : { request_id: requestId }),
    ...(Object.keys(fields).length === 0 ? {} : { fields }),
  };
}

/**
 * Renders a record as one human-readable line: time, level, id, message, then
 * `key=value` pairs. Control characters in the message are escaped so that one
 * record is always one line on a terminal.
 */
export function formatRecord(record: LogRecord): string {
  const msg = record.msg.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
  const extras = Object.entries({ request_id: record.request_id, ...record.fields })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
  return `${record.ts} ${record.level.toUpperCase().padEnd(5)} ${record.id} ${msg}${extras}`;
}
