/**
 * The KV command contract: what a client may ask, and what it gets back. Commands and
 * results are plain JSON objects with snake_case fields; on the wire and on disk they
 * travel as week 7's canonical bytes (RFC 8785), so one command has exactly one byte
 * form and one hash.
 *
 * Validation lives here, apart from the state machine, so the server can refuse a bad
 * command before it is signed-checked, logged or applied, and the state machine can
 * still refuse one that reached it (from a damaged or foreign log) without throwing.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { isRequestId } from '../../lib/framing.ts';
import { loneSurrogateAt } from '../../lib/hashing.ts';
import { KV_ERRORS } from './catalog.ts';

/** The longest key: 256 printable ASCII characters. */
export const MAX_KEY_LENGTH = 256;
/** The largest value, in UTF-8 bytes (32 KiB, so a signed put fits the node's 65 KiB frame). */
export const MAX_VALUE_BYTES = 32 * 1024;

// #region commands
/** Sets `key` to `value`. */
export interface KvPut {
  /** The operation. */
  readonly op: 'put';
  /** Names this command for dedupe: a retry reuses it, a new command takes a fresh one. */
  readonly request_id: string;
  /** 1–256 printable ASCII characters, no spaces. */
  readonly key: string;
  /** Any well-formed Unicode text up to 32 KiB in UTF-8. */
  readonly value: string;
  /** Compare-and-set: apply only when the key is at this version (0 = never written). */
  readonly if_version?: number;
}

/** Removes `key`'s value; its version keeps counting (the delete is a write). */
export interface KvDelete {
  /** The operation. */
  readonly op: 'delete';
  /** As for {@link KvPut}. */
  readonly request_id: string;
  /** The key to remove. */
  readonly key: string;
  /** Compare-and-set: apply only when the key is at this version. */
  readonly if_version?: number;
}

/** Reads `key`. Reads change nothing, so they need no request id; one may be sent for tracing. */
export interface KvGet {
  /** The operation. */
  readonly op: 'get';
  /** The key to read. */
  readonly key: string;
  /** Optional, for logs only: a read is never deduplicated. */
  readonly request_id?: string;
}

/** A state-changing command: the only thing {@link KvStateMachine.apply} takes. */
export type KvCommand = KvPut | KvDelete;
/** Anything a client may send. */
export type KvRequest = KvCommand | KvGet;
// #endregion commands

// #region results
/** A key's live value and its metadata. */
export interface KvEntry {
  /** The value. */
  readonly value: string;
  /** Writes to this key so far, deletes included: 1 after the first put. */
  readonly version: number;
  /** The term of the write that set this value (week 12's leader term; 0 on a single node). */
  readonly term: number;
  /** Lowercase hex SHA-256 of the value's UTF-8 bytes. */
  readonly value_hash: string;
}

/** The answer to a put that was applied. */
export interface KvPutResult extends KvEntry {
  /** True: the command succeeded. */
  readonly ok: true;
  /** The operation. */
  readonly op: 'put';
  /** The command's request id. */
  readonly request_id: string;
  /** The key written. */
  readonly key: string;
  /** The log position at which the write was applied. */
  readonly lsn: number;
}

/** The answer to a delete that was applied. */
export interface KvDeleteResult {
  /** True: the command succeeded. */
  readonly ok: true;
  /** The operation. */
  readonly op: 'delete';
  /** The command's request id. */
  readonly request_id: string;
  /** The key removed. */
  readonly key: string;
  /** The key's version after the delete. */
  readonly version: number;
  /** The term of the delete. */
  readonly term: number;
  /** The log position at which the delete was applied. */
  readonly lsn: number;
}

/** The answer to a get that found a value. */
export interface KvGetResult extends KvEntry {
  /** True: the key has a live value. */
  readonly ok: true;
  /** The operation. */
  readonly op: 'get';
  /** The key read. */
  readonly key: string;
}

/** A command that was refused: nothing changed. */
export interface KvFailure {
  /** False: the command was refused and changed nothing. */
  readonly ok: false;
  /** The operation asked for (`invalid` when it could not be read). */
  readonly op: 'put' | 'delete' | 'get' | 'invalid';
  /** The request id, or null when the command carried no valid one. */
  readonly request_id: string | null;
  /** The key, or null when the command carried no valid one. */
  readonly key: string | null;
  /** `E_KV_NOT_FOUND`, `E_KV_VERSION_CONFLICT`, `E_KV_REQUEST_ID_REUSED` or `E_KV_COMMAND_INVALID`. */
  readonly code: 'E_KV_NOT_FOUND' | 'E_KV_VERSION_CONFLICT' | 'E_KV_REQUEST_ID_REUSED' | 'E_KV_COMMAND_INVALID';
  /** What went wrong, in the catalog's message style. */
  readonly message: string;
  /** The key's current version (0 when never written), so a client can retry a compare-and-set. */
  readonly version: number;
}

/** What {@link KvStateMachine.apply} returns. */
export type KvResult = KvPutResult | KvDeleteResult | KvFailure;
/** What a read returns. */
export type KvReadResult = KvGetResult | KvFailure;
// #endregion results

const KEY = /^[\x21-\x7e]{1,256}$/;
/** Surrogate code units: a string without any cannot hold a lone one. */
const MAY_HOLD_SURROGATE = /[\ud800-\udfff]/;
const PUT_FIELDS: readonly string[] = ['op', 'request_id', 'key', 'value', 'if_version'];
const DELETE_FIELDS: readonly string[] = ['op', 'request_id', 'key', 'if_version'];
const GET_FIELDS: readonly string[] = ['op', 'key', 'request_id'];
const encoder = new TextEncoder();
const fail = errorFactory(KV_ERRORS);

function isVersion(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

// #region command-problem
/**
 * What is wrong with `value` as a KV request, or undefined when it is a valid one.
 * Unknown fields are refused: a field this build ignores could be one the sender relies on.
 */
export function kvRequestProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the command must be a JSON object';
  const record = value as Record<string, unknown>;
  const op = record['op'];
  if (op !== 'put' && op !== 'delete' && op !== 'get') return `op must be put, delete or get, got ${JSON.stringify(op)}`;
  const allowed = op === 'put' ? PUT_FIELDS : op === 'delete' ? DELETE_FIELDS : GET_FIELDS;
  for (const field of Object.keys(record)) {
    if (!allowed.includes(field)) return `field ${JSON.stringify(field)} is not part of a ${op} command`;
  }
  const id = record['request_id'];
  if (op !== 'get' || id !== undefined) {
    if (typeof id !== 'string' || !isRequestId(id)) return 'request_id must be 1-128 characters of A-Z a-z 0-9 . _ : - (required on put and delete)';
  }
  const key = record['key'];
  if (typeof key !== 'string' || !KEY.test(key)) return `key must be 1-${MAX_KEY_LENGTH} printable ASCII characters without spaces`;
  if (op === 'put') {
    const text = record['value'];
    if (typeof text !== 'string') return 'value must be a string';
    if (MAY_HOLD_SURROGATE.test(text) && loneSurrogateAt(text) >= 0) return 'value must be well-formed Unicode (it has a lone surrogate)';
    // A UTF-16 code unit takes at most 3 UTF-8 bytes: short values need no encoding to pass.
    const size = text.length <= MAX_VALUE_BYTES / 3 ? 0 : encoder.encode(text).length;
    if (size > MAX_VALUE_BYTES) return `value is ${size} bytes in UTF-8, above the limit of ${MAX_VALUE_BYTES}`;
  }
  if (record['if_version'] !== undefined && !isVersion(record['if_version'])) return 'if_version must be a non-negative integer';
  return undefined;
}
// #endregion command-problem

/**
 * `value` as a KV request.
 * @throws CivicError `E_KV_COMMAND_INVALID` naming the first problem found
 */
export function parseKvRequest(value: unknown): KvRequest {
  const problem = kvRequestProblem(value);
  if (problem !== undefined) throw fail('E_KV_COMMAND_INVALID', `Cannot accept KV command: ${problem}`);
  return value as KvRequest;
}

/** True for put and delete: the commands that must be signed and carry a request id. */
export function isKvCommand(request: KvRequest): request is KvCommand {
  return request.op !== 'get';
}
