/**
 * Replicated dedupe with a time-to-live: week 9's KV state machine behind a table that
 * remembers each request id's first answer for `ttlMs`, then refuses the id for good.
 *
 * Time must be the same on every replica, or one replica would expire an id that another
 * still remembers and they would answer a retry differently. So the clock is not any
 * replica's wall clock: the leader stamps its time into each log entry when it proposes
 * the command, and every replica reads the same stamp at the same index.
 *
 * The stamped command, the `data` of every non-no-op log entry (RFC 8785 canonical JSON):
 *
 * ```text
 *   { "at_ms": <leader clock, ms since the epoch, integer ≥ 0>,
 *     "command": <a week 9 KV request: put, delete or get> }
 * ```
 *
 * The replicated clock is `max(previous clock, at_ms)`: a new leader whose wall clock
 * lags the old one's cannot make time run backwards, so it can neither revive an expired
 * id nor stretch a TTL.
 *
 * ```text
 *   apply(entry)   (clock = max(clock, at_ms); live ids older than ttlMs move to expired)
 *     request id live, same command    ──▶ the first answer, nothing re-executed
 *     request id live, other command   ──▶ E_KV_REQUEST_ID_REUSED
 *     request id expired (tombstone)   ──▶ E_DEDUPE_EXPIRED (definite: not executed)
 *     unseen                           ──▶ week 9 executes it; the answer goes live
 *
 *   live:    id → {at_ms, command_hash, answer}   apply order = at_ms order, so expiry pops the front
 *   expired: id → {at_ms, command_hash}           expiry order; the oldest forgotten past tombstoneCapacity
 * ```
 *
 * Why refuse an expired id instead of running it: a late duplicate is, by definition, a
 * retry of a command that was already applied (an id is only ever resent for the same
 * command). Executing it again would apply that write twice, e.g. a put that overwrites
 * a newer value, or a delete of a key someone wrote since. A refusal is definite and
 * tells the client to look before it sends a fresh id.
 *
 * Week 9's machine keeps its own capacity-bounded table behind this one; it only ever
 * sees the ids this table calls new, and its table stays part of its snapshot.
 *
 * The remaining hole: a tombstone is forgotten after `tombstoneCapacity` newer ones, and
 * a duplicate that arrives after that runs again. Session-based dedupe (Raft dissertation
 * §6.3: a client registers a session, and requests of an expired session are refused)
 * closes it with bounded state; this module keeps week 9's request-id contract instead.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { canonicalBytes, canonicalize, parseStrictJson, sha256Hex } from '../../lib/hashing.ts';
import {
  KV_ERRORS, KvStateMachine, decodeCrcRecord, encodeCrcRecord, isRecordDamage, kvRequestProblem, valueHash,
  type KvCommand, type KvFailure, type KvReadResult, type KvRefusal, type KvRequest, type KvResult, type TextDigest,
} from '../../lib/kv.ts';
import { ELECTION_ERRORS } from './catalog.ts';

/**
 * One committed log entry, as the replication layer hands it to the application (the
 * shape of week 11's `Entry`). `data === null` is a new leader's no-op.
 */
export interface ReplicatedEntry {
  /** Position in the log, from 1. */
  readonly index: number;
  /** The term of the leader that appended it. */
  readonly term: number;
  /** The stamped command's canonical bytes, or null for a no-op. */
  readonly data: Uint8Array | null;
}

/** A snapshot as the replication layer carries it (the shape of week 11's `Snapshot`). */
export interface ReplicatedSnapshot {
  /** The last log index the snapshot covers. */
  readonly index: number;
  /** The term of that entry. */
  readonly term: number;
  /** The application's {@link ReplicatedApplication.snapshot} bytes. */
  readonly data: Uint8Array;
}

/** What a replica node drives: apply committed entries in order, snapshot, restore, compare (week 11's `ReplicatedApp`). */
export interface ReplicatedApplication<R> {
  /** Applies the next committed entry and returns the answer for the client that proposed it. */
  apply(entry: ReplicatedEntry): R;
  /** The whole state as bytes: equal states give equal bytes. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with the one {@link ReplicatedApplication.snapshot} returned. */
  restore(snapshot: ReplicatedSnapshot): void;
  /** Lowercase hex SHA-256 of the state, to compare replicas. */
  stateHash(): string;
}

/** The command a leader proposes: a KV request and the leader's clock when it proposed it. */
export interface StampedCommand {
  /** The leader's clock (ms since the epoch) when it proposed the command. */
  readonly at_ms: number;
  /** The week 9 request. */
  readonly command: KvRequest;
}

/** The refusal of a late duplicate (see the module comment for why it is not run again). */
export interface DedupeExpired extends KvRefusal {
  /** The request id. */
  readonly request_id: string;
  /** Always `E_DEDUPE_EXPIRED`. */
  readonly code: 'E_DEDUPE_EXPIRED';
  /** The replicated clock when the id was first applied. */
  readonly first_applied_ms: number;
}

/** What {@link TtlDedupeKv.apply} answers: week 9's results, a refusal, or null for a no-op. */
export type TtlApplyReply = KvResult | KvReadResult | KvRefusal | null;

/** Options of a {@link TtlDedupeKv}; every replica of a cluster must use the same ones. */
export interface TtlDedupeOptions {
  /** How long (replicated ms) an id's first answer is returned to its retries. */
  readonly ttlMs: number;
  /** Expired ids remembered (to refuse) before the oldest is forgotten. Default {@link DEFAULT_TOMBSTONE_CAPACITY}. */
  readonly tombstoneCapacity?: number;
  /** The SHA-256 of text that values and commands are hashed with (default: week 9's pure {@link valueHash}); any choice gives the same digests. */
  readonly hashText?: TextDigest;
}

/** Counts, for logs and metrics. */
export interface TtlDedupeStats {
  /** Request ids whose first answer is still returned. */
  readonly live: number;
  /** Expired request ids still refused. */
  readonly expired: number;
  /** The replicated clock. */
  readonly clockMs: number;
  /** The last log index applied. */
  readonly appliedIndex: number;
}

/** The snapshot layout this build writes and reads. */
export const TTL_SNAPSHOT_SCHEMA_VERSION = 1;
/** The 8 bytes a TTL dedupe snapshot starts with (week 9's snapshot follows its table record). */
export const TTL_SNAPSHOT_MAGIC = 'CTDEDTTL';
/** Expired ids remembered by default. */
export const DEFAULT_TOMBSTONE_CAPACITY = 262144;

interface Live {
  readonly at_ms: number;
  readonly command_hash: string;
  readonly result: KvResult;
}

interface Expired {
  readonly at_ms: number;
  readonly command_hash: string;
}

/** The whole replicated state, in one object so restore() can build it aside and swap it in at once. */
interface TableState {
  appliedIndex: number;
  appliedTerm: number;
  clockMs: number;
  readonly live: Map<string, Live>;
  readonly expired: Map<string, Expired>;
  readonly machine: KvStateMachine;
}

const fail = errorFactory(ELECTION_ERRORS);
const failKv = errorFactory(KV_ERRORS);
const encoder = new TextEncoder();
const MAGIC_BYTES = encoder.encode(TTL_SNAPSHOT_MAGIC);

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The canonical bytes of a stamped command, as the leader proposes them. */
export function stampCommand(command: KvRequest, atMs: number): Uint8Array {
  if (!isNonNegativeInteger(atMs)) throw new RangeError(`atMs must be a non-negative integer, got ${atMs}`);
  return canonicalBytes({ at_ms: atMs, command });
}

/**
 * Reads a log entry's data as a stamped command. The command itself is not checked
 * here: week 9's machine refuses a bad one with `E_KV_COMMAND_INVALID`, like any other.
 * @throws {@link CivicError} `E_STAMP_MALFORMED` when the bytes are not strict JSON
 *   `{at_ms, command}` with an integer `at_ms` ≥ 0 and an object `command`
 */
export function parseStampedCommand(data: Uint8Array): {
  /** The leader's clock when it proposed the command. */
  readonly at_ms: number;
  /** The command, not yet checked against the KV contract. */
  readonly command: unknown;
} {
  let parsed: unknown;
  try {
    parsed = parseStrictJson(data);
  } catch (error) {
    throw fail('E_STAMP_MALFORMED', 'Cannot read stamped command: the entry is not strict JSON', error);
  }
  const record = parsed as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw fail('E_STAMP_MALFORMED', 'Cannot read stamped command: the entry is not a JSON object');
  const fields = Object.keys(record).sort().join(',');
  if (fields !== 'at_ms,command') throw fail('E_STAMP_MALFORMED', `Cannot read stamped command: fields must be at_ms and command, got ${fields}`);
  if (!isNonNegativeInteger(record['at_ms'])) throw fail('E_STAMP_MALFORMED', 'Cannot read stamped command: at_ms must be a non-negative integer');
  const command = record['command'];
  if (typeof command !== 'object' || command === null || Array.isArray(command)) throw fail('E_STAMP_MALFORMED', 'Cannot read stamped command: command must be a JSON object');
  return { at_ms: record['at_ms'], command };
}

/** Week 9's KV state machine with a replicated, TTL-bounded dedupe table in front of it. */
export class TtlDedupeKv implements ReplicatedApplication<TtlApplyReply> {
  readonly #ttlMs: number;
  readonly #tombstoneCapacity: number;
  readonly #hashText: TextDigest;
  readonly #machineOptions: { readonly hashText?: TextDigest; readonly dedupeCapacity: number };
  #state: TableState;

  /** An empty replica at log index 0 and replicated clock 0. */
  constructor(options: TtlDedupeOptions) {
    if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 1) throw new RangeError(`ttlMs must be a positive integer, got ${options.ttlMs}`);
    const capacity = options.tombstoneCapacity ?? DEFAULT_TOMBSTONE_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`tombstoneCapacity must be a non-negative integer, got ${capacity}`);
    this.#ttlMs = options.ttlMs;
    this.#tombstoneCapacity = capacity;
    this.#hashText = options.hashText ?? valueHash;
    // This table is the dedupe: week 9's own (which would hold 65,536 results more, in
    // memory and in every snapshot) keeps a single id, the least it can.
    this.#machineOptions = options.hashText === undefined ? { dedupeCapacity: 1 } : { hashText: options.hashText, dedupeCapacity: 1 };
    const machine = new KvStateMachine(this.#machineOptions);
    this.#state = { appliedIndex: 0, appliedTerm: 0, clockMs: 0, live: new Map(), expired: new Map(), machine };
  }

  /** The last log index applied (0 before any). */
  get appliedIndex(): number {
    return this.#state.appliedIndex;
  }

  /** The replicated clock: the largest `at_ms` applied so far. */
  get clockMs(): number {
    return this.#state.clockMs;
  }

  /** Counts for logs and metrics. */
  get stats(): TtlDedupeStats {
    const s = this.#state;
    return { live: s.live.size, expired: s.expired.size, clockMs: s.clockMs, appliedIndex: s.appliedIndex };
  }

  /** A local read of `key` (this replica's state, not a linearizable read: for that, propose a get). */
  read(key: string): KvReadResult {
    return this.#state.machine.read(key);
  }

  // #region dedupe-ttl-apply
  /**
   * Applies one committed entry. Never throws on bad data (every replica must give the
   * same answer to the same bytes): a malformed stamp answers `E_STAMP_MALFORMED`.
   * @throws RangeError when `entry.index` does not follow {@link appliedIndex} (a caller bug)
   */
  apply(entry: ReplicatedEntry): TtlApplyReply {
    const s = this.#state;
    if (!Number.isSafeInteger(entry.index) || entry.index <= s.appliedIndex) throw new RangeError(`entry index ${entry.index} must be an integer above ${s.appliedIndex}`);
    if (!isNonNegativeInteger(entry.term) || entry.term < s.appliedTerm) throw new RangeError(`entry term ${entry.term} must be an integer of at least ${s.appliedTerm}`);
    s.appliedIndex = entry.index;
    s.appliedTerm = entry.term;
    if (entry.data === null) return null; // a leader's no-op: no time, no command
    let stamped;
    try {
      stamped = parseStampedCommand(entry.data);
    } catch (error) {
      return { ok: false, request_id: null, code: 'E_STAMP_MALFORMED', message: (error as Error).message };
    }
    s.clockMs = Math.max(s.clockMs, stamped.at_ms);
    this.#expire();
    const { machine, live, expired, clockMs } = s;
    const position = { term: entry.term, lsn: entry.index };
    const command = stamped.command as KvRequest;
    // An invalid command goes straight to week 9's machine, which refuses it the same way everywhere.
    if (kvRequestProblem(command) !== undefined) return machine.apply(command as KvCommand, position);
    if (command.op === 'get') return machine.read(command.key); // a read through the log: linearizable, never deduped
    const commandHash = this.#hashText(canonicalize(command)); // the digest week 9 names commands by
    const seen = live.get(command.request_id);
    if (seen !== undefined) {
      if (seen.command_hash === commandHash) return seen.result; // a retry within the TTL: the first answer
      return reused(command, machine.read(command.key).version);
    }
    const gone = expired.get(command.request_id);
    if (gone !== undefined) {
      const refusal: DedupeExpired = {
        ok: false, request_id: command.request_id, code: 'E_DEDUPE_EXPIRED', first_applied_ms: gone.at_ms,
        message: `Cannot apply ${command.op}: request id ${command.request_id} was first applied at ${gone.at_ms}, at least ${this.#ttlMs} ms before ${clockMs}`,
      };
      return refusal;
    }
    const result = machine.apply(command, position);
    live.set(command.request_id, { at_ms: clockMs, command_hash: commandHash, result });
    return result;
  }
  // #endregion dedupe-ttl-apply

  /** Moves every live id at least ttlMs old to the tombstones, and forgets tombstones past the bound. */
  #expire(): void {
    const { live, expired, clockMs } = this.#state;
    for (const [id, entry] of live) {
      if (clockMs - entry.at_ms < this.#ttlMs) break; // live is in at_ms order: the rest are younger
      live.delete(id);
      expired.set(id, { at_ms: entry.at_ms, command_hash: entry.command_hash });
    }
    while (expired.size > this.#tombstoneCapacity) expired.delete(expired.keys().next().value as string);
  }

  /**
   * `CTDEDTTL`, a CRC32C record holding the table (canonical JSON: TTL settings, applied
   * index and term, clock, live and expired rows in their order), then week 9's snapshot.
   */
  snapshot(): Uint8Array {
    const s = this.#state;
    const table = canonicalBytes({
      schema_version: TTL_SNAPSHOT_SCHEMA_VERSION,
      ttl_ms: this.#ttlMs,
      tombstone_capacity: this.#tombstoneCapacity,
      applied_index: s.appliedIndex,
      applied_term: s.appliedTerm,
      clock_ms: s.clockMs,
      live: [...s.live].map(([id, e]) => [id, e.at_ms, e.command_hash, e.result]),
      expired: [...s.expired].map(([id, e]) => [id, e.at_ms, e.command_hash]),
    });
    const record = encodeCrcRecord(table);
    const kv = s.machine.snapshot();
    const out = new Uint8Array(MAGIC_BYTES.length + record.length + kv.length);
    out.set(MAGIC_BYTES, 0);
    out.set(record, MAGIC_BYTES.length);
    out.set(kv, MAGIC_BYTES.length + record.length);
    return out;
  }

  /**
   * Replaces this replica's state with a snapshot's, after checking all of it; on any
   * failure the state is left as it was.
   * @throws {@link CivicError} `E_SNAPSHOT_TRUNCATED`, `E_SNAPSHOT_CHECKSUM` or
   *   `E_SNAPSHOT_MALFORMED` (week 9's codes, for the table record or week 9's part);
   *   `E_DEDUPE_TTL_MISMATCH` when the snapshot was taken under another TTL or bound
   */
  restore(from: ReplicatedSnapshot): void {
    const snapshot = from.data;
    const bad = (why: string) => failKv('E_SNAPSHOT_MALFORMED', `Cannot restore dedupe snapshot: ${why}`);
    if (snapshot.length < MAGIC_BYTES.length) throw failKv('E_SNAPSHOT_TRUNCATED', 'Cannot restore dedupe snapshot: it is shorter than its magic');
    if (MAGIC_BYTES.some((byte, i) => snapshot[i] !== byte)) throw bad(`it does not start with ${TTL_SNAPSHOT_MAGIC}`);
    const record = decodeCrcRecord(snapshot, MAGIC_BYTES.length);
    if (isRecordDamage(record)) {
      throw record.error === 'torn'
        ? failKv('E_SNAPSHOT_TRUNCATED', 'Cannot restore dedupe snapshot: the table record stops early')
        : failKv('E_SNAPSHOT_CHECKSUM', 'Cannot restore dedupe snapshot: the table record fails its CRC32C check');
    }
    let parsed: unknown;
    try {
      parsed = parseStrictJson(record.body);
    } catch (error) {
      throw failKv('E_SNAPSHOT_MALFORMED', 'Cannot restore dedupe snapshot: the table is not strict JSON', error);
    }
    const t = parsed as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || t['schema_version'] !== TTL_SNAPSHOT_SCHEMA_VERSION) throw bad('the table is not an object of the supported schema version');
    if (t['ttl_ms'] !== this.#ttlMs || t['tombstone_capacity'] !== this.#tombstoneCapacity) {
      throw fail('E_DEDUPE_TTL_MISMATCH', `Cannot restore dedupe snapshot: it was taken with ttl ${String(t['ttl_ms'])} ms and ${String(t['tombstone_capacity'])} tombstones, this replica runs ${this.#ttlMs} ms and ${this.#tombstoneCapacity}`);
    }
    const [appliedIndex, appliedTerm, clockMs] = [t['applied_index'], t['applied_term'], t['clock_ms']];
    if (!isNonNegativeInteger(appliedIndex) || !isNonNegativeInteger(appliedTerm) || !isNonNegativeInteger(clockMs)) throw bad('applied_index, applied_term or clock_ms is not a non-negative integer');
    if (!Array.isArray(t['live']) || !Array.isArray(t['expired'])) throw bad('the table lacks live or expired rows');
    const live = new Map<string, Live>();
    for (const row of t['live'] as unknown[]) {
      if (!Array.isArray(row) || row.length !== 4 || typeof row[0] !== 'string' || !isNonNegativeInteger(row[1]) || typeof row[2] !== 'string' || typeof row[3] !== 'object' || row[3] === null) {
        throw bad('a live row is not [request_id, at_ms, command_hash, result]');
      }
      live.set(row[0], { at_ms: row[1], command_hash: row[2], result: Object.freeze(row[3] as KvResult) });
    }
    const expired = new Map<string, Expired>();
    for (const row of t['expired'] as unknown[]) {
      if (!Array.isArray(row) || row.length !== 3 || typeof row[0] !== 'string' || !isNonNegativeInteger(row[1]) || typeof row[2] !== 'string') {
        throw bad('an expired row is not [request_id, at_ms, command_hash]');
      }
      expired.set(row[0], { at_ms: row[1], command_hash: row[2] });
    }
    const machine = KvStateMachine.restore(snapshot.subarray(record.next), this.#machineOptions);
    this.#state = { appliedIndex, appliedTerm, clockMs, live, expired, machine };
  }

  /** Lowercase hex SHA-256 of {@link snapshot}: equal on replicas that applied the same entries. */
  stateHash(): string {
    return sha256Hex(this.snapshot());
  }

  /**
   * The entry data a leader proposes for `request`: the request stamped with the leader's
   * clock ({@link stampCommand}). Week 11's replica calls this on the leader only, so the
   * time every replica expires ids by is the one in the log.
   * @param request - a verified, parsed request
   * @param nowMs - the leader's clock, in ms since the epoch
   */
  proposal(request: KvRequest, nowMs: number): Uint8Array {
    return stampCommand(request, nowMs);
  }
}

function reused(command: KvCommand, version: number): KvFailure {
  return {
    ok: false, op: command.op, request_id: command.request_id, key: command.key, code: 'E_KV_REQUEST_ID_REUSED', version,
    message: `Cannot apply ${command.op}: request id ${command.request_id} was already used for another command`,
  };
}
