/**
 * The in-memory Raft log of one node: a snapshot offset, the entries after it, and two
 * cursors that say how much of it is durable and how much is committed.
 *
 * ```text
 *   snapshot.index   stable            commit   applied ≤ commit ≤ last
 *        │             │                 │
 *   ─────┼─────────────┼─────────────────┼──────────┐
 *   [compacted] [ persisted entries ][ unstable... ] last
 *        offset+1 = firstIndex          (in the next Ready)
 * ```
 *
 * Invariants: entries are contiguous from `offset + 1`; `term(offset)` is the snapshot's
 * term; everything up to `stable` was handed out in a Ready and acknowledged by
 * `advance`; a truncation below `stable` pulls `stable` back so the replacing entries go
 * out again (the caller's storage replaces the suffix). The log never drops a
 * committed entry: a request to overwrite one is a safety violation.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { REPLICATION_ERRORS } from './catalog.ts';
import type { Entry, Snapshot } from './raft_types.ts';

const fail = errorFactory(REPLICATION_ERRORS);

/** A node's log: snapshot offset, entries, and the stable/committed/applied cursors. */
export class RaftLog {
  #snapshot: Snapshot | null;
  #offset: number;
  #offsetTerm: number;
  #entries: Entry[];
  #stable: number;
  #pendingSnapshot: Snapshot | null = null;
  /** The highest index known committed. */
  commit: number;
  /** The highest index handed to the application and acknowledged by `advance`. */
  applied: number;

  /**
   * A log restored from storage: the snapshot (or none), the entries after it, the commit.
   * @throws CivicError `E_RAFT_RESTORE_INVALID` when the entries do not follow the snapshot
   *   contiguously or the commit is beyond the last entry
   */
  constructor(snapshot: Snapshot | null, entries: readonly Entry[], commit: number) {
    this.#snapshot = snapshot;
    this.#offset = snapshot?.index ?? 0;
    this.#offsetTerm = snapshot?.term ?? 0;
    entries.forEach((entry, i) => {
      if (entry.index !== this.#offset + 1 + i) {
        throw fail('E_RAFT_RESTORE_INVALID', `Cannot restore the log: entry ${i} has index ${entry.index}, expected ${this.#offset + 1 + i}`);
      }
    });
    this.#entries = entries.slice();
    this.#stable = this.lastIndex;
    if (commit > this.lastIndex) throw fail('E_RAFT_RESTORE_INVALID', `Cannot restore the log: commit ${commit} is beyond the last index ${this.lastIndex}`);
    this.commit = Math.max(commit, this.#offset);
    this.applied = this.#offset;
  }

  /** The first index still held as an entry (the snapshot covers everything before it). */
  get firstIndex(): number {
    return this.#offset + 1;
  }

  /** The last index in the log (the snapshot's index when no entries follow it). */
  get lastIndex(): number {
    return this.#offset + this.#entries.length;
  }

  /** The term of the last entry (or of the snapshot). */
  get lastTerm(): number {
    return this.term(this.lastIndex) ?? 0;
  }

  /** The last index handed out for persistence and acknowledged. */
  get stableIndex(): number {
    return this.#stable;
  }

  /** The newest snapshot: taken by the application or received from a leader. */
  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  /** A received snapshot not yet handed out in a Ready. */
  get pendingSnapshot(): Snapshot | null {
    return this.#pendingSnapshot;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.#offset) return this.#offsetTerm;
    if (index < this.#offset || index > this.lastIndex) return undefined;
    return (this.#entries[index - this.#offset - 1] as Entry).term;
  }

  /** True when the log holds an entry (or the snapshot end) at `index` of term `term`. */
  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** The entries from `lo` to `hi` inclusive; `lo` must not be compacted. */
  slice(lo: number, hi: number): Entry[] {
    if (lo > hi) return [];
    return this.#entries.slice(lo - this.#offset - 1, hi - this.#offset);
  }

  /** The first index of the run of entries of `term` that contains `index` (no lower than the first held index). */
  firstIndexOfTerm(index: number, term: number): number {
    let i = index;
    while (i - 1 > this.#offset && this.term(i - 1) === term) i--;
    return i;
  }

  /** The last index at which the log holds an entry of `term`, or undefined when it holds none. */
  lastIndexOfTerm(term: number): number | undefined {
    for (let i = this.lastIndex; i > this.#offset; i--) {
      const t = this.term(i) as number;
      if (t === term) return i;
      if (t < term) return undefined; // terms only grow along a log
    }
    return undefined;
  }

  /** Appends entries that follow the last index (the leader's own proposals). */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) this.#entries.push(entry);
  }

  // #region raft-log-truncate
  /**
   * Takes `entries` (contiguous, already checked to follow a matching prefix): entries
   * the log already holds with the same term are skipped; from the first conflict on,
   * the log's suffix is dropped and replaced.
   * @throws CivicError `E_RAFT_SAFETY` when the conflict is at or below the commit index
   */
  appendWithTruncate(entries: readonly Entry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      if (entry.index <= this.#offset) continue;
      const mine = this.term(entry.index);
      if (mine === entry.term) continue;
      if (mine !== undefined) {
        if (entry.index <= this.commit) {
          throw fail('E_RAFT_SAFETY', `Cannot truncate the log at ${entry.index}: it is committed (commit ${this.commit})`);
        }
        this.#entries.length = entry.index - this.#offset - 1;
        this.#stable = Math.min(this.#stable, entry.index - 1);
      }
      this.append(entries.slice(i));
      return;
    }
  }
  // #endregion raft-log-truncate

  /** Entries not yet handed out for persistence. */
  unstableEntries(): Entry[] {
    return this.slice(this.#stable + 1, this.lastIndex);
  }

  /** Marks entries up to `index` durable, if the log still holds `index` at `term`. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.#stable) this.#stable = index;
  }

  /** Committed entries not yet applied (none while a received snapshot is pending). */
  committedToApply(): Entry[] {
    const from = Math.max(this.applied, this.#pendingSnapshot?.index ?? 0) + 1;
    return this.slice(from, this.commit);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#pendingSnapshot = snapshot;
    this.#offset = snapshot.index;
    this.#offsetTerm = snapshot.term;
    this.#entries = [];
    this.#stable = snapshot.index;
    this.commit = snapshot.index;
  }

  /** The caller persisted and restored the pending snapshot. */
  snapshotApplied(snapshot: Snapshot): void {
    if (this.#pendingSnapshot === snapshot) this.#pendingSnapshot = null;
    this.applied = Math.max(this.applied, snapshot.index);
  }

  /**
   * Keeps `snapshot` (taken by the application at an applied index) and drops the
   * entries it covers.
   * @throws CivicError `E_RAFT_COMPACT_INVALID` beyond the applied index or on a term mismatch
   */
  compact(snapshot: Snapshot): void {
    if (snapshot.index <= this.#offset) return; // an older snapshot than the one kept: nothing to drop
    if (snapshot.index > this.applied) {
      throw fail('E_RAFT_COMPACT_INVALID', `Cannot compact to ${snapshot.index}: only ${this.applied} is applied`);
    }
    if (!this.matchTerm(snapshot.index, snapshot.term)) {
      throw fail('E_RAFT_COMPACT_INVALID', `Cannot compact to ${snapshot.index}: the log's term there is ${this.term(snapshot.index)}, not ${snapshot.term}`);
    }
    this.#entries = this.#entries.slice(snapshot.index - this.#offset);
    this.#offset = snapshot.index;
    this.#offsetTerm = snapshot.term;
    this.#snapshot = snapshot;
  }
}
