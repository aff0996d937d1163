/**
 * Raft's stable storage on week 10's write-ahead log (Node adapter), in the style of
 * etcd's WAL: one append-only log of typed records, read back by replaying them in order.
 *
 * ```text
 *  DIR/
 *    wal/wal-<first lsn>.log        records (week 10's CRC32C-framed WAL records)
 *    snap/snapshot-<index>.ctkv     snapshot bytes (week 9's durable write: tmp, fsync, rename)
 *
 *  record key              term        request_id   value
 *  raft.entry              entry term  i<index>     0x00 (no-op) | 0x01 ‖ data
 *  raft.hard_state         hs term     h<term>      JCS {commit, term, vote}
 *  raft.snapshot_marker    snap term   i<index>     JCS {file, index, sha256, term}
 * ```
 *
 * Read-back rules: an entry whose index is at or below the last one read replaces the
 * stored suffix from that index (a follower overwriting a deposed leader's tail); a hard
 * state supersedes every earlier one; a snapshot marker drops the entries it covers. So
 * the log itself never needs rewriting: truncation is just a later record.
 *
 * Compaction after a durable snapshot: rotate to a fresh segment, write into it the marker,
 * the hard state and every entry after the snapshot (each a replay no-op if the old
 * segments survive a crash), then drop the old segments. The fresh segment alone restores
 * the node.
 * @module
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorFactory } from '../../lib/errors.ts';
import { canonicalBytes, parseStrictJson, sha256Hex } from '../../lib/hashing.ts';
import { listSnapshots, snapshotFileName, writeSnapshot } from '../../lib/kv.ts';
import { Wal, type WalDamage, type WalEntry, type WalRecord } from '../../lib/wal.ts';
import type { Entry, HardState, RaftRestore, Ready, Snapshot } from './raft_types.ts';
import { REPLICA_ERRORS } from './replica_catalog.ts';

const fail = errorFactory(REPLICA_ERRORS);

/** The WAL record kinds, as the record's `key`. */
export const RAFT_RECORD_KEYS = {
  /** A log entry (index, term, data); a lower index than the last replaces the suffix from there. */
  entry: 'raft.entry',
  /** The hard state (term, vote, commit); the newest wins. */
  hardState: 'raft.hard_state',
  /** Where a durable snapshot file ends the log (index, term, file, SHA-256). */
  snapshot: 'raft.snapshot_marker',
} as const;

/** The hard state of a node that has never run. */
export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** Snapshot files kept: the newest (named by the log) and one before it. */
const SNAPSHOTS_KEPT = 2;
const NOOP_TAG = 0;
const DATA_TAG = 1;

/** What {@link RaftStorage.open} found. */
export interface RaftStorageOpened {
  /** The storage, open for {@link RaftStorage.save}. */
  readonly storage: RaftStorage;
  /** The state to start the core from. */
  readonly restore: RaftRestore;
  /** The torn or corrupt WAL tail the log cut into quarantine, or null for a clean log. */
  readonly damage: WalDamage | null;
}

/** Counters since open. */
export interface RaftStorageStats {
  /** Calls to {@link RaftStorage.save} that wrote anything. */
  readonly saves: number;
  /** WAL records appended. */
  readonly records: number;
  /** The WAL's fdatasyncs (group commit: one per save at most). */
  readonly syncs: number;
  /** Compactions done. */
  readonly compactions: number;
}

/** A snapshot marker's value. */
interface Marker {
  readonly file: string;
  readonly index: number;
  readonly sha256: string;
  readonly term: number;
}

function entryRecord(entry: Entry): WalEntry {
  const value = new Uint8Array(1 + (entry.data?.length ?? 0));
  value[0] = entry.data === null ? NOOP_TAG : DATA_TAG;
  if (entry.data !== null) value.set(entry.data, 1);
  return { term: entry.term, op: 'put', key: RAFT_RECORD_KEYS.entry, request_id: `i${entry.index}`, if_version: null, value };
}

function hardStateRecord(hs: HardState): WalEntry {
  return { term: hs.term, op: 'put', key: RAFT_RECORD_KEYS.hardState, request_id: `h${hs.term}`, if_version: null, value: canonicalBytes({ commit: hs.commit, term: hs.term, vote: hs.vote }) };
}

function markerRecord(marker: Marker): WalEntry {
  return { term: marker.term, op: 'put', key: RAFT_RECORD_KEYS.snapshot, request_id: `i${marker.index}`, if_version: null, value: canonicalBytes(marker) };
}

function corrupt(record: WalRecord, why: string): Error {
  return fail('E_RAFT_STORAGE_CORRUPT', `Cannot read the Raft log: record lsn ${record.lsn} (${record.key}) ${why}`);
}

function indexOf(record: WalRecord): number {
  const match = /^i([1-9][0-9]{0,15})$/.exec(record.request_id);
  const index = match === null ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(index)) throw corrupt(record, `has request_id ${record.request_id}, not i<index>`);
  return index;
}

function jsonObject(record: WalRecord): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseStrictJson(record.value);
  } catch (error) {
    throw corrupt(record, `value is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(record, 'value is not a JSON object');
  return value as Record<string, unknown>;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The log as replay rebuilds it: the latest hard state, the latest marker, the entries after it. */
interface Replayed {
  hardState: HardState;
  marker: Marker | null;
  entries: Entry[];
}

// #region storage-replay
/** Folds one WAL record into the replayed state, by the read-back rules of the module comment. */
function replayRecord(state: Replayed, record: WalRecord): void {
  if (record.key === RAFT_RECORD_KEYS.entry) {
    const index = indexOf(record);
    const tag = record.value[0];
    if (tag !== NOOP_TAG && tag !== DATA_TAG) throw corrupt(record, 'has no entry tag byte');
    const entry: Entry = { index, term: record.term, data: tag === NOOP_TAG ? null : record.value.slice(1) };
    const snapIndex = state.marker?.index ?? 0;
    if (index <= snapIndex) return; // already inside the snapshot
    const first = state.entries[0]?.index ?? snapIndex + 1;
    const next = first + state.entries.length;
    if (index > next) throw corrupt(record, `leaves a hole: index ${index} after last index ${next - 1}`);
    state.entries.length = index - first; // a rewrite drops the suffix from `index` on
    state.entries.push(entry);
  } else if (record.key === RAFT_RECORD_KEYS.hardState) {
    const { term, vote, commit } = jsonObject(record);
    if (!isCount(term) || !isCount(commit) || (vote !== null && typeof vote !== 'string')) throw corrupt(record, 'is not {term, vote, commit}');
    state.hardState = { term, vote, commit };
  } else if (record.key === RAFT_RECORD_KEYS.snapshot) {
    const { file, index, sha256, term } = jsonObject(record);
    if (typeof file !== 'string' || !isCount(index) || typeof sha256 !== 'string' || !isCount(term)) throw corrupt(record, 'is not a snapshot marker');
    // Keep the entries after the snapshot only when the log agrees with it at its index.
    const at = state.entries.find((e) => e.index === index);
    const agrees = at?.term === term || (state.marker?.index === index && state.marker.term === term);
    state.entries = agrees ? state.entries.filter((e) => e.index > index) : [];
    state.marker = { file, index, sha256, term };
  } else {
    throw corrupt(record, 'is not a Raft record');
  }
}
// #endregion storage-replay

/**
 * Raft's persistent state on one WAL opened with `fsync: 'group'`.
 *
 * @example
 * const { storage, restore } = await RaftStorage.open(dir);
 * const node = new RaftNode(config, restore);
 * await storage.save(node.ready()); // durable before anything is sent
 */
export class RaftStorage {
  readonly #wal: Wal;
  readonly #snapDir: string;
  // A mirror of what replay would rebuild now: compaction re-appends it into a fresh segment.
  #state: Replayed;
  #saves = 0;
  #records = 0;
  #compactions = 0;

  private constructor(wal: Wal, snapDir: string, state: Replayed) {
    this.#wal = wal;
    this.#snapDir = snapDir;
    this.#state = state;
  }

  /**
   * Opens (creating if needed) the storage in `dir` and replays it. A torn or corrupt WAL
   * tail is quarantined by the WAL and reported in `damage`; the records before it count.
   * @throws CivicError `E_RAFT_STORAGE_CORRUPT` when a good record is not a Raft record or
   *   entries leave a hole; `E_RAFT_SNAPSHOT_MISSING` when the newest marker's file is
   *   missing or its bytes do not hash to the marker's digest
   */
  static async open(dir: string): Promise<RaftStorageOpened> {
    const snapDir = join(dir, 'snap');
    const { wal, recovery } = await Wal.open(join(dir, 'wal'), { fsync: 'group' });
    await mkdir(snapDir, { recursive: true });
    const state: Replayed = { hardState: EMPTY_HARD_STATE, marker: null, entries: [] };
    try {
      for (const record of recovery.records) replayRecord(state, record);
    } catch (error) {
      await wal.close();
      throw error;
    }
    let snapshot: Snapshot | null = null;
    if (state.marker !== null) {
      const { file, index, term, sha256 } = state.marker;
      let data: Uint8Array;
      try {
        data = new Uint8Array(await readFile(join(snapDir, file)));
      } catch (error) {
        await wal.close();
        throw fail('E_RAFT_SNAPSHOT_MISSING', `Cannot restore snapshot ${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (sha256Hex(data) !== sha256) {
        await wal.close();
        throw fail('E_RAFT_SNAPSHOT_MISSING', `Cannot restore snapshot ${file}: its bytes do not match the SHA-256 the log recorded`);
      }
      snapshot = { index, term, data };
    }
    const storage = new RaftStorage(wal, snapDir, state);
    return { storage, restore: { hardState: state.hardState, snapshot, entries: [...state.entries] }, damage: recovery.damage };
  }

  /** Counters since open. */
  get stats(): RaftStorageStats {
    return { saves: this.#saves, records: this.#records, syncs: this.#wal.stats.syncs, compactions: this.#compactions };
  }

  /** The last index the storage holds (the snapshot's when no entry follows it). */
  get lastIndex(): number {
    return this.#state.entries.at(-1)?.index ?? this.#state.marker?.index ?? 0;
  }

  // #region storage-save
  /**
   * Persists what one `Ready` asks for: the snapshot (its bytes durable in their own file
   * first, then a marker), the entries, the hard state. Every record is appended before the
   * first await, so the whole Ready rides WAL group commit: appends made in one synchronous
   * turn share one write and one fdatasync (under load, the group being formed).
   *
   * A Ready whose only change is a higher commit index is logged but not waited for (etcd's
   * `MustSync` rule): the commit index is a fact the majority already holds, and a node that
   * restarts with an older one learns it again from the leader. Term, vote and entries are
   * always durable before this resolves.
   * @param ready - the hard state, entries and snapshot to persist (other fields ignored)
   * @returns once all of it that must be durable is
   * @throws CivicError `E_WAL_IO` (indefinite) when the disk failed; the log then refuses
   *   every later save (`E_WAL_CLOSED`) until reopened
   */
  async save(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): Promise<void> {
    const records: WalEntry[] = [];
    if (ready.snapshot !== null) records.push(markerRecord(await this.#writeSnapshotFile(ready.snapshot)));
    for (const entry of ready.entries) records.push(entryRecord(entry));
    const mustSync = records.length > 0 || (ready.hardState !== null && !this.#commitOnly(ready.hardState));
    if (ready.hardState !== null) records.push(hardStateRecord(ready.hardState));
    if (records.length === 0) return;
    for (const record of records) this.#mirror(record); // throws on a hole before anything is written
    const appended = records.map((record) => this.#wal.append(record, { durable: mustSync }));
    this.#saves++;
    this.#records += records.length;
    if (mustSync) {
      await Promise.all(appended);
    } else {
      // Written soon, durable with the next fdatasync anyone asks for; a failure fails the
      // WAL, and the next save that must sync throws E_WAL_CLOSED.
      for (const p of appended) p.catch(() => undefined);
    }
  }
  // #endregion storage-save

  /** True when `next` differs from the stored hard state in its commit index alone. */
  #commitOnly(next: HardState): boolean {
    const stored = this.#state.hardState;
    return next.term === stored.term && next.vote === stored.vote;
  }

  /**
   * Compacts the log up to a snapshot the application took: writes the snapshot file
   * durably, rotates the WAL, writes the marker, hard state and the entries after the
   * snapshot into the fresh segment, then deletes the older segments and snapshot files.
   * Call it between saves (the replica's Ready loop does), never concurrently with one.
   * @param snapshot - the application state at `snapshot.index`, an index the storage holds
   */
  async compact(snapshot: Snapshot): Promise<void> {
    const marker = await this.#writeSnapshotFile(snapshot);
    const first = await this.#wal.rotate();
    this.#mirror(markerRecord(marker));
    const carried: WalEntry[] = [markerRecord(marker), hardStateRecord(this.#state.hardState), ...this.#state.entries.map(entryRecord)];
    await Promise.all(carried.map((record) => this.#wal.append(record)));
    this.#records += carried.length;
    await this.#wal.dropThrough(first - 1);
    for (const stale of (await listSnapshots(this.#snapDir)).slice(SNAPSHOTS_KEPT)) await rm(stale, { force: true });
    this.#compactions++;
  }

  /** Writes the snapshot bytes durably (week 9's tmp + fsync + rename + dir fsync) and returns its marker. */
  async #writeSnapshotFile(snapshot: Snapshot): Promise<Marker> {
    const file = snapshotFileName(snapshot.index);
    await writeSnapshot(this.#snapDir, snapshot.data, snapshot.index);
    return { file, index: snapshot.index, sha256: sha256Hex(snapshot.data), term: snapshot.term };
  }

  /** Applies an appended record to the in-memory mirror (the replay rules, on records we wrote). */
  #mirror(record: WalEntry): void {
    replayRecord(this.#state, { ...record, lsn: 0, value_hash: '', checksum: 0 });
  }

  /** Waits for pending appends and closes the WAL. */
  async close(): Promise<void> {
    await this.#wal.close();
  }
}
