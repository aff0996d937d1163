/**
 * The KV state machine: a deterministic function from (state, command, log position)
 * to (state, result). No I/O, no clock, no randomness: two replicas that apply the same
 * commands at the same positions hold byte-identical snapshots.
 *
 * ```
 *   apply(cmd, {term, lsn})
 *        │  lsn ≤ appliedLsn ──▶ RangeError (a caller bug: positions only grow)
 *        ▼
 *   valid command? ── no ──▶ E_KV_COMMAND_INVALID (nothing recorded)
 *        ▼
 *   dedupe[request_id] ── same command ──▶ the first result, unchanged state
 *        │               └ other command ─▶ E_KV_REQUEST_ID_REUSED (nothing recorded)
 *        ▼ unseen
 *   if_version matches? ── no ──▶ E_KV_VERSION_CONFLICT ┐
 *        ▼                                              ├─▶ dedupe[request_id] = result
 *   put / delete: version + 1, term, value_hash ────────┘
 * ```
 *
 * Invariants: a key's version counts its successful writes (deletes included; a delete
 * leaves a tombstone that keeps the count), so it never goes back; the dedupe table
 * holds the last `dedupeCapacity` request ids in apply order and is part of every
 * snapshot, so a retry after a restart still gets its first answer.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { canonicalBytes, canonicalize, escapeJsonString, parseStrictJson, sha256Hex } from '../../lib/hashing.ts';
import { KV_ERRORS } from './catalog.ts';
import { kvRequestProblem, type KvCommand, type KvDeleteResult, type KvEntry, type KvFailure, type KvPutResult, type KvReadResult, type KvResult } from './command.ts';
import { crc32c } from './crc32c.ts';
import { decodeCrcRecord, encodeCrcRecord, isRecordDamage } from './record.ts';

/** The snapshot schema this build writes and the only one it reads. */
export const SNAPSHOT_SCHEMA_VERSION = 1;
/** The 8 bytes every snapshot starts with. */
export const SNAPSHOT_MAGIC = 'CTKVSNAP';
/** Request ids remembered by default. */
export const DEFAULT_DEDUPE_CAPACITY = 65536;

/** The header of a snapshot, stored as its own checksummed record before the state. */
export interface SnapshotHeader {
  /** The schema of the state record ({@link SNAPSHOT_SCHEMA_VERSION}). */
  readonly schema_version: number;
  /** The last log position applied to the state. */
  readonly lsn: number;
  /** The term of that position. */
  readonly term: number;
  /** Live keys in the state. */
  readonly keys: number;
  /** The state record's body length in bytes. */
  readonly state_bytes: number;
  /** CRC32C of the state record's body. */
  readonly checksum: number;
}

/** Options of a new {@link KvStateMachine}. */
export interface KvStateMachineOptions {
  /** Request ids to remember for dedupe; the oldest is forgotten first. Default {@link DEFAULT_DEDUPE_CAPACITY}. */
  readonly dedupeCapacity?: number;
  /**
   * The SHA-256 used for value and command hashes, as lowercase hex of a string's UTF-8
   * bytes. Default {@link valueHash} (pure, `@noble/hashes`); a Node adapter may pass
   * a `node:crypto` one. Any choice must give the same digests: only the speed differs.
   */
  readonly hashText?: TextDigest;
}

/** Where a command sits in the log, as {@link KvStateMachine.apply} takes it. */
export interface ApplyContext {
  /** The term the command was logged in. */
  readonly term: number;
  /** Its log position: must follow the last one applied. */
  readonly lsn: number;
  /**
   * The lowercase hex SHA-256 of a put's value bytes, when the caller holds it already
   * (a WAL record carries it, checked on replay), so the value is not hashed twice. It
   * must be that digest: the machine stores it as the value's hash.
   */
  readonly valueHash?: string;
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes (see {@link KvStateMachineOptions.hashText}). */
export type TextDigest = (text: string) => string;

/** Counts of a state machine, for logs and metrics. */
export interface KvStats {
  /** Keys with a live value. */
  readonly keys: number;
  /** Deleted keys whose version is kept. */
  readonly tombstones: number;
  /** Request ids remembered. */
  readonly requestIds: number;
  /** The last log position applied. */
  readonly appliedLsn: number;
}

interface Slot {
  value: string | null; // null: deleted (a tombstone keeps the version)
  version: number;
  term: number;
  value_hash: string | null;
}

interface Remembered {
  readonly command_hash: string;
  readonly result: KvResult;
}

const fail = errorFactory(KV_ERRORS);
const encoder = new TextEncoder();
const MAGIC_BYTES = encoder.encode(SNAPSHOT_MAGIC);
// Set by KvStateMachine's static block.
let install: (parts: RestoredParts) => KvStateMachine;

/** Lowercase hex SHA-256 of a value's UTF-8 bytes (pure, `@noble/hashes`): the default {@link TextDigest}. */
export function valueHash(value: string): string {
  return sha256Hex(encoder.encode(value));
}

/**
 * The canonical JSON text of a command that `kvRequestProblem` accepted: the same
 * string as week 7's `canonicalize`, written field by field (names in RFC 8785 order:
 * if_version, key, op, request_id, value). Anything but a plain object with exactly
 * the command's own fields takes the general path, so odd inputs fail as before.
 */
function canonicalCommand(command: KvCommand): string {
  const c = command as { readonly op: string; readonly key: string; readonly request_id: string; readonly value?: string; readonly if_version?: number };
  const fields = (c.if_version === undefined ? 3 : 4) + (c.op === 'put' ? 1 : 0);
  if (Object.getPrototypeOf(c) !== Object.prototype || ownFieldCount(c) !== fields) return canonicalize(command);
  // Validated: key and request_id are printable ASCII, the value has no lone surrogate,
  // if_version is a safe integer, whose String() form is JCS's number form.
  const guard = c.if_version === undefined ? '' : `"if_version":${String(c.if_version)},`;
  const value = c.op === 'put' ? `,"value":${escapeJsonString(c.value ?? '')}` : '';
  return `{${guard}"key":${escapeJsonString(c.key)},"op":"${c.op}","request_id":${escapeJsonString(c.request_id)}${value}}`;
}

/** The own enumerable fields of a plain object, counted without building `Object.keys`' array (once per put). */
function ownFieldCount(object: object): number {
  let n = 0;
  for (const name in object) if (Object.hasOwn(object, name)) n++;
  return n;
}

function failure(command: KvCommand, code: KvFailure['code'], message: string, version: number): KvFailure {
  return { ok: false, op: command.op, request_id: command.request_id, key: command.key, code, message, version };
}

/** The deterministic, versioned, deduplicating KV state machine. */
export class KvStateMachine {
  readonly #entries = new Map<string, Slot>();
  readonly #dedupe = new Map<string, Remembered>();
  /**
   * The remembered request ids in apply order, oldest at `#oldest`. Eviction reads the
   * oldest id here, not from the Map: V8 leaves a hole for each deleted Map entry until
   * it rehashes, so `map.keys().next()` walks every hole evicted before it, and a full
   * table made each put cost 18 µs instead of 3.
   */
  #order: string[] = [];
  #oldest = 0;
  readonly #capacity: number;
  readonly #hash: TextDigest;
  #appliedLsn = 0;
  #term = 0;

  /** An empty state machine at log position 0. */
  constructor(options: KvStateMachineOptions = {}) {
    const capacity = options.dedupeCapacity ?? DEFAULT_DEDUPE_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`dedupeCapacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#hash = options.hashText ?? valueHash;
  }

  /** The last log position applied (0 before any). */
  get appliedLsn(): number {
    return this.#appliedLsn;
  }

  /** The term of the last position applied. */
  get term(): number {
    return this.#term;
  }

  // #region apply
  /**
   * Applies one state-changing command at log position `lsn` in `term`. Never throws on
   * a bad command: it returns a {@link KvFailure}. A request id seen before with the
   * same command returns the first result and changes nothing.
   * @throws RangeError when `lsn` does not follow {@link appliedLsn} or `term` is not a
   *   non-negative integer (a caller bug, not bad input)
   */
  apply(command: KvCommand, context: ApplyContext): KvResult {
    const { term, lsn } = context;
    if (!Number.isSafeInteger(lsn) || lsn <= this.#appliedLsn) throw new RangeError(`lsn ${lsn} must be an integer above ${this.#appliedLsn}`);
    if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`term ${term} must be a non-negative integer`);
    this.#appliedLsn = lsn;
    this.#term = term;
    const problem = (command as { op: string }).op === 'get' ? 'get is a read: use read() or get()' : kvRequestProblem(command);
    if (problem !== undefined) return this.#invalid(command, problem);

    const commandHash = this.#hash(canonicalCommand(command));
    const seen = this.#dedupe.get(command.request_id);
    if (seen !== undefined) {
      if (seen.command_hash === commandHash) return seen.result; // a retry: first answer, no change
      return failure(command, 'E_KV_REQUEST_ID_REUSED',
        `Cannot apply ${command.op}: request id ${command.request_id} was already used for another command`, this.#versionOf(command.key));
    }
    const result = this.#execute(command, term, lsn, context.valueHash);
    this.#remember(command.request_id, { command_hash: commandHash, result });
    return result;
  }
  // #endregion apply

  #execute(command: KvCommand, term: number, lsn: number, knownHash: string | undefined): KvResult {
    const slot = this.#entries.get(command.key);
    const current = slot?.version ?? 0;
    if (command.if_version !== undefined && command.if_version !== current) {
      return failure(command, 'E_KV_VERSION_CONFLICT',
        `Cannot apply ${command.op} to ${command.key}: expected version ${command.if_version}, the key is at ${current}`, current);
    }
    if (command.op === 'put') {
      const value_hash = knownHash ?? this.#hash(command.value);
      this.#entries.set(command.key, { value: command.value, version: current + 1, term, value_hash });
      const result: KvPutResult = { ok: true, op: 'put', request_id: command.request_id, key: command.key, value: command.value, version: current + 1, term, value_hash, lsn };
      return Object.freeze(result);
    }
    if (slot === undefined || slot.value === null) {
      return failure(command, 'E_KV_NOT_FOUND', `Cannot delete ${command.key}: the key has no value`, current);
    }
    this.#entries.set(command.key, { value: null, version: current + 1, term, value_hash: null });
    const result: KvDeleteResult = { ok: true, op: 'delete', request_id: command.request_id, key: command.key, version: current + 1, term, lsn };
    return Object.freeze(result);
  }

  #remember(requestId: string, remembered: Remembered): void {
    this.#dedupe.set(requestId, remembered);
    this.#order.push(requestId);
    if (this.#dedupe.size > this.#capacity) this.#dedupe.delete(this.#order[this.#oldest++]!);
    if (this.#oldest >= this.#capacity) {
      this.#order = this.#order.slice(this.#oldest); // amortised: one copy per `capacity` evictions
      this.#oldest = 0;
    }
  }

  #invalid(command: unknown, problem: string): KvFailure {
    const record = (typeof command === 'object' && command !== null ? command : {}) as Record<string, unknown>;
    const op = record['op'];
    return {
      ok: false,
      op: op === 'put' || op === 'delete' || op === 'get' ? op : 'invalid',
      request_id: typeof record['request_id'] === 'string' ? record['request_id'] : null,
      key: typeof record['key'] === 'string' ? record['key'] : null,
      code: 'E_KV_COMMAND_INVALID',
      message: `Cannot accept KV command: ${problem}`,
      version: 0,
    };
  }

  #versionOf(key: string): number {
    return this.#entries.get(key)?.version ?? 0;
  }

  /** The live value of `key` with its metadata, or undefined when it has none. */
  get(key: string): KvEntry | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined || slot.value === null || slot.value_hash === null) return undefined;
    return { value: slot.value, version: slot.version, term: slot.term, value_hash: slot.value_hash };
  }

  /** A get in the response schema: the entry, or `E_KV_NOT_FOUND` with the key's version (kept after a delete). */
  read(key: string): KvReadResult {
    const entry = this.get(key);
    if (entry !== undefined) return { ok: true, op: 'get', key, ...entry };
    return { ok: false, op: 'get', request_id: null, key, code: 'E_KV_NOT_FOUND', message: `Cannot get ${key}: the key has no value`, version: this.#versionOf(key) };
  }

  /** The first result recorded for `requestId`, if it is still remembered. */
  resultOf(requestId: string): KvResult | undefined {
    return this.#dedupe.get(requestId)?.result;
  }

  /** Counts for logs and metrics. */
  get stats(): KvStats {
    let tombstones = 0;
    for (const slot of this.#entries.values()) if (slot.value === null) tombstones++;
    return { keys: this.#entries.size - tombstones, tombstones, requestIds: this.#dedupe.size, appliedLsn: this.#appliedLsn };
  }

  // #region snapshot
  /**
   * The whole state as bytes: `CTKVSNAP`, then a checksummed header record, then a
   * checksummed state record (entries sorted by key, tombstones included, and the
   * dedupe table in apply order), both canonical JSON. Equal states give equal bytes.
   */
  snapshot(): Uint8Array {
    const keys = [...this.#entries.keys()].sort();
    const entries = keys.map((key) => {
      const slot = this.#entries.get(key) as Slot;
      return [key, slot.value, slot.version, slot.term, slot.value_hash];
    });
    const dedupe = [...this.#dedupe].map(([id, remembered]) => [id, remembered.command_hash, remembered.result]);
    const state = canonicalBytes({ dedupe_capacity: this.#capacity, applied_lsn: this.#appliedLsn, term: this.#term, entries, dedupe });
    const header: SnapshotHeader = {
      schema_version: SNAPSHOT_SCHEMA_VERSION, lsn: this.#appliedLsn, term: this.#term,
      keys: this.stats.keys, state_bytes: state.length, checksum: crc32c(state),
    };
    const headerRecord = encodeCrcRecord(canonicalBytes(header));
    const stateRecord = encodeCrcRecord(state);
    const out = new Uint8Array(MAGIC_BYTES.length + headerRecord.length + stateRecord.length);
    out.set(MAGIC_BYTES, 0);
    out.set(headerRecord, MAGIC_BYTES.length);
    out.set(stateRecord, MAGIC_BYTES.length + headerRecord.length);
    return out;
  }
  // #endregion snapshot

  // #region restore
  /**
   * Rebuilds a state machine from {@link snapshot} bytes, checking everything before
   * trusting anything: magic, header record CRC, schema version, state record CRC and
   * the header's checksum of it, then every entry's value hash.
   * @throws CivicError `E_SNAPSHOT_TRUNCATED` (bytes stop early), `E_SNAPSHOT_CHECKSUM`
   *   (a CRC or value hash does not match), `E_SNAPSHOT_SCHEMA` (unknown schema version),
   *   `E_SNAPSHOT_MALFORMED` (wrong magic, trailing bytes, or a state that does not parse)
   * @param options - the digest the restored machine hashes with (default: the pure one)
   */
  static restore(bytes: Uint8Array, options: Pick<KvStateMachineOptions, 'hashText'> = {}): KvStateMachine {
    const header = readHeader(bytes);
    const at = MAGIC_BYTES.length + 8 + header.length;
    const stateRecord = decodeCrcRecord(bytes, at);
    if (isRecordDamage(stateRecord)) {
      throw stateRecord.error === 'torn'
        ? fail('E_SNAPSHOT_TRUNCATED', `Cannot load snapshot: the state record stops early (${bytes.length} bytes in all)`)
        : fail('E_SNAPSHOT_CHECKSUM', 'Cannot load snapshot: the state record fails its CRC32C check');
    }
    if (stateRecord.next !== bytes.length) throw fail('E_SNAPSHOT_MALFORMED', `Cannot load snapshot: ${bytes.length - stateRecord.next} bytes follow the state record`);
    const state = stateRecord.body;
    if (state.length !== header.value.state_bytes || crc32c(state) !== header.value.checksum) {
      throw fail('E_SNAPSHOT_CHECKSUM', 'Cannot load snapshot: the state does not match the checksum in its header');
    }
    return fromState(state, header.value, options.hashText ?? valueHash);
  }
  // #endregion restore

  static {
    // Only restore() may install state, and only after every check passed: a module-private hook, not a public method.
    install = (parts) => {
      const machine = new KvStateMachine({ dedupeCapacity: parts.capacity, hashText: parts.hashText });
      for (const [key, slot] of parts.entries) machine.#entries.set(key, slot);
      for (const [id, remembered] of parts.dedupe) machine.#remember(id, remembered);
      machine.#appliedLsn = parts.appliedLsn;
      machine.#term = parts.term;
      return machine;
    };
  }
}

interface RestoredParts {
  readonly capacity: number;
  readonly hashText: TextDigest;
  readonly appliedLsn: number;
  readonly term: number;
  readonly entries: ReadonlyArray<readonly [string, Slot]>;
  readonly dedupe: ReadonlyArray<readonly [string, Remembered]>;
}

/** Reads and checks the magic and header record of snapshot bytes. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  return readHeader(bytes).value;
}

function readHeader(bytes: Uint8Array): { readonly value: SnapshotHeader; readonly length: number } {
  if (bytes.length < MAGIC_BYTES.length) throw fail('E_SNAPSHOT_TRUNCATED', `Cannot load snapshot: ${bytes.length} bytes is shorter than its magic`);
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) throw fail('E_SNAPSHOT_MALFORMED', `Cannot load snapshot: it does not start with ${SNAPSHOT_MAGIC}`);
  }
  const record = decodeCrcRecord(bytes, MAGIC_BYTES.length);
  if (isRecordDamage(record)) {
    throw record.error === 'torn'
      ? fail('E_SNAPSHOT_TRUNCATED', 'Cannot load snapshot: the header record stops early')
      : fail('E_SNAPSHOT_CHECKSUM', 'Cannot load snapshot: the header record fails its CRC32C check');
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(record.body);
  } catch (error) {
    throw fail('E_SNAPSHOT_MALFORMED', 'Cannot load snapshot: the header is not strict JSON', error);
  }
  const header = parsed as Partial<SnapshotHeader> | null;
  if (typeof header !== 'object' || header === null) throw fail('E_SNAPSHOT_MALFORMED', 'Cannot load snapshot: the header is not an object');
  // The schema check comes first: a newer schema may lay out the rest differently.
  if (header.schema_version !== SNAPSHOT_SCHEMA_VERSION) {
    throw fail('E_SNAPSHOT_SCHEMA', `Cannot load snapshot: schema version ${JSON.stringify(header.schema_version)} is not the supported ${SNAPSHOT_SCHEMA_VERSION}`);
  }
  for (const field of ['lsn', 'term', 'keys', 'state_bytes', 'checksum'] as const) {
    const v = header[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail('E_SNAPSHOT_MALFORMED', `Cannot load snapshot: header field ${field} is not a non-negative integer`);
  }
  return { value: header as SnapshotHeader, length: record.body.length };
}

function fromState(state: Uint8Array, header: SnapshotHeader, hashText: TextDigest): KvStateMachine {
  const bad = (why: string) => fail('E_SNAPSHOT_MALFORMED', `Cannot load snapshot: ${why}`);
  let parsed: unknown;
  try {
    parsed = parseStrictJson(state);
  } catch (error) {
    throw fail('E_SNAPSHOT_MALFORMED', 'Cannot load snapshot: the state is not strict JSON', error);
  }
  const s = parsed as Record<string, unknown>;
  if (typeof s !== 'object' || s === null || !Array.isArray(s['entries']) || !Array.isArray(s['dedupe'])) throw bad('the state lacks entries or dedupe');
  const capacity = s['dedupe_capacity'];
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) throw bad('dedupe_capacity is not a positive integer');
  if (s['applied_lsn'] !== header.lsn || s['term'] !== header.term) throw bad('the state position differs from the header');
  const entries: Array<readonly [string, Slot]> = [];
  let live = 0;
  for (const row of s['entries'] as unknown[]) {
    if (!Array.isArray(row) || row.length !== 5) throw bad('an entry is not [key, value, version, term, value_hash]');
    const [key, value, version, term, hash] = row as [unknown, unknown, unknown, unknown, unknown];
    if (typeof key !== 'string' || typeof version !== 'number' || version < 1 || typeof term !== 'number') throw bad('an entry has a bad key, version or term');
    if (value === null) {
      if (hash !== null) throw bad(`tombstone ${key} carries a value hash`);
      entries.push([key, { value: null, version, term, value_hash: null }]);
      continue;
    }
    if (typeof value !== 'string' || typeof hash !== 'string') throw bad(`entry ${key} has a bad value or value hash`);
    // The CRC says the bytes are the ones written; the hash says the value is the one its metadata names.
    if (hashText(value) !== hash) throw fail('E_SNAPSHOT_CHECKSUM', `Cannot load snapshot: the value of ${key} does not match its value_hash`);
    entries.push([key, { value, version, term, value_hash: hash }]);
    live++;
  }
  if (live !== header.keys) throw bad(`the header counts ${header.keys} keys, the state holds ${live}`);
  const dedupe: Array<readonly [string, Remembered]> = [];
  for (const row of s['dedupe'] as unknown[]) {
    if (!Array.isArray(row) || row.length !== 3 || typeof row[0] !== 'string' || typeof row[1] !== 'string' || typeof row[2] !== 'object' || row[2] === null) {
      throw bad('a dedupe row is not [request_id, command_hash, result]');
    }
    dedupe.push([row[0], { command_hash: row[1], result: Object.freeze(row[2] as KvResult) }]);
  }
  return install({ capacity, hashText, appliedLsn: header.lsn, term: header.term, entries, dedupe });
}
