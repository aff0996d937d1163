/**
 * The pure Raft replication core (Ongaro & Ousterhout 2014, §5 and Figure 2), shaped like
 * etcd's raft library: ticks and messages go in through {@link RaftNode.tick} and
 * {@link RaftNode.step}, proposals through {@link RaftNode.propose}, and everything the
 * caller must do comes out of {@link RaftNode.ready} as one {@link Ready}: persist, then
 * send, then apply, then {@link RaftNode.advance}.
 *
 * ```text
 *            timeout                    majority of votes
 *  follower ─────────▶ candidate ──────────────────────────▶ leader
 *     ▲  ▲   (term+1, vote self)  │ timeout: new election      │
 *     │  └────────────────────────┘                            │
 *     └──────── any message with a higher term, or checkQuorum ┘
 * ```
 *
 * The leader tracks one {@link Progress} per follower: `probe` (one append at a time,
 * backing up with the follower's conflict hints), `replicate` (pipelined appends, `next`
 * advanced optimistically) or `snapshot` (waiting for a snapshot install). Nothing here
 * reads a clock, draws a random number of its own or does I/O, so the same inputs give
 * the same outputs, which is what lets the simulator replay a seed exactly.
 * @module
 */
import type { ReplicationErrorCode } from './catalog.ts';
import { RaftLog } from './raft_log.ts';
import type {
  AppendRequest, AppendResponse, Entry, HardState, Message, NodeId, ProposeResult, RaftConfig, RaftRestore, Ready, Role,
  Snapshot, SnapshotRequest, SnapshotResponse, SoftState, VoteRequest, VoteResponse,
} from './raft_types.ts';

/** Appends a leader keeps in flight to one follower in `replicate` state before it waits for acknowledgements. */
export const MAX_INFLIGHT_APPENDS = 4;

/** How the leader is replicating to one follower. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower. */
export interface Progress {
  /** The highest index known to match the leader's log. */
  match: number;
  /** The next index to send. */
  next: number;
  /** Probing, pipelining, or waiting for a snapshot install. */
  state: ProgressState;
  /** In `probe` state: an append is out and unanswered. */
  paused: boolean;
  /** In `replicate` state: the last index of each append in flight. */
  inflight: number[];
  /** Rejected appends since the last success (bounded catch-up). */
  rejections: number;
  /** Heard from since the last quorum check. */
  active: boolean;
  /** Its match index moved since the last heartbeat round. */
  acked: boolean;
  /** Heartbeat rounds in a row it stayed behind without progress. */
  stalled: number;
}

function newProgress(next: number): Progress {
  return { match: 0, next, state: 'probe', paused: false, inflight: [], rejections: 0, active: true, acked: true, stalled: 0 };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** One Raft node: the deterministic state machine of §5, with etcd's Ready hand-off. */
export class RaftNode {
  readonly #config: RaftConfig;
  readonly #peers: readonly NodeId[];
  readonly #quorum: number;
  readonly #log: RaftLog;
  #term: number;
  #vote: NodeId | null;
  #role: Role = 'follower';
  #leader: NodeId | null = null;
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedTimeout = 0;
  readonly #votes = new Map<NodeId, boolean>();
  readonly #progress = new Map<NodeId, Progress>();
  #messages: Message[] = [];
  #broadcastDue = false;
  /** Followers that acknowledged and still lack entries: each gets one append at the next ready(). */
  readonly #appendDue = new Set<NodeId>();
  #persistedHardState: HardState;
  #reportedSoftState: SoftState;

  /**
   * A node restarted from its persisted state (all zeros and empty for a new node).
   * @throws CivicError `E_RAFT_RESTORE_INVALID` when the restore is not a log
   */
  constructor(config: RaftConfig, restore: RaftRestore) {
    this.#config = config;
    this.#peers = config.voters.filter((v) => v !== config.id);
    this.#quorum = Math.floor(config.voters.length / 2) + 1;
    this.#log = new RaftLog(restore.snapshot, restore.entries, restore.hardState.commit);
    this.#term = restore.hardState.term;
    this.#vote = restore.hardState.vote;
    this.#persistedHardState = this.#hardState();
    this.#reportedSoftState = this.#softState();
    this.#resetElectionTimer();
  }

  /** This node's id. */
  get id(): NodeId {
    return this.#config.id;
  }

  /** Follower, candidate or leader. */
  get role(): Role {
    return this.#role;
  }

  /** The current term. */
  get term(): number {
    return this.#term;
  }

  /** The leader known for the current term, or null. */
  get leader(): NodeId | null {
    return this.#leader;
  }

  /** The highest index known committed. */
  get commitIndex(): number {
    return this.#log.commit;
  }

  /** The last index in this node's log. */
  get lastIndex(): number {
    return this.#log.lastIndex;
  }

  /** The last index the application acknowledged applying (through `advance`). */
  get appliedIndex(): number {
    return this.#log.applied;
  }

  /** The leader's view of `peer` (for tests and status pages); undefined on a non-leader. */
  progressOf(peer: NodeId): Readonly<Progress> | undefined {
    return this.#role === 'leader' ? this.#progress.get(peer) : undefined;
  }

  // #region raft-election-timeout
  /** Draws a new election timeout in [electionTicks, 2 × electionTicks): at every reset, so timeouts keep differing. */
  #resetElectionTimer(): void {
    this.#electionElapsed = 0;
    const base = this.#config.electionTicks;
    this.#randomizedTimeout = base + Math.floor(this.#config.random() * base);
  }

  /**
   * Advances logical time by one tick. A follower or candidate that has heard no leader
   * for its randomized timeout starts an election; a leader sends heartbeats every
   * `heartbeatTicks` and, with `checkQuorum`, steps down after an election timeout in
   * which it did not hear from a majority.
   */
  tick(): void {
    if (this.#role !== 'leader') {
      this.#electionElapsed++;
      if (this.#electionElapsed >= this.#randomizedTimeout) this.#campaign();
      return;
    }
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#config.electionTicks) {
      this.#electionElapsed = 0;
      if (this.#config.checkQuorum && !this.#quorumActive()) {
        this.#becomeFollower(this.#term, null);
        return;
      }
    }
    if (this.#heartbeatElapsed >= this.#config.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#heartbeat();
    }
  }
  // #endregion raft-election-timeout

  #quorumActive(): boolean {
    let active = 1; // the leader itself
    for (const pr of this.#progress.values()) {
      if (pr.active) active++;
      pr.active = false;
    }
    return active >= this.#quorum;
  }

  #campaign(): void {
    this.#role = 'candidate';
    this.#term++;
    this.#vote = this.id;
    this.#leader = null;
    this.#votes.clear();
    this.#votes.set(this.id, true);
    this.#resetElectionTimer();
    if (this.#quorum === 1) {
      this.#becomeLeader();
      return;
    }
    for (const peer of this.#peers) {
      this.#send({ type: 'vote', from: this.id, to: peer, term: this.#term, lastIndex: this.#log.lastIndex, lastTerm: this.#log.lastTerm });
    }
  }

  #becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.#term) {
      this.#term = term;
      this.#vote = null;
    }
    this.#role = 'follower';
    this.#leader = leader;
    this.#progress.clear();
    this.#broadcastDue = false;
    this.#resetElectionTimer();
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leader = this.id;
    this.#heartbeatElapsed = 0;
    this.#electionElapsed = 0;
    this.#progress.clear();
    for (const peer of this.#peers) this.#progress.set(peer, newProgress(this.#log.lastIndex + 1));
    // The no-op of §5.4.2: entries of earlier terms commit only once an entry of this term does.
    this.#appendOwn(null);
  }

  #appendOwn(data: Uint8Array | null): Entry {
    const entry: Entry = { index: this.#log.lastIndex + 1, term: this.#term, data };
    this.#log.append([entry]);
    this.#broadcastDue = true; // sent at the next ready(): proposals between two Readies share one append
    return entry;
  }

  /**
   * Appends `data` to the leader's log. The entry is committed when the caller sees it
   * in a later `Ready.committed` at the returned index with the returned term.
   * @returns the index and term, or `E_RAFT_NOT_LEADER` with a redirect hint
   */
  propose(data: Uint8Array): ProposeResult {
    if (this.#role !== 'leader') return { ok: false, code: 'E_RAFT_NOT_LEADER', leader: this.#leader, term: this.#term };
    const entry = this.#appendOwn(data);
    return { ok: true, index: entry.index, term: entry.term };
  }

  // #region raft-term-rule
  /**
   * Takes one message from a peer. A message with a higher term first makes this node a
   * follower of that term; a request with a lower term is answered with the current term
   * (so its sender steps down) and a reply with a lower term is dropped.
   * @returns null when the message was taken, or `E_RAFT_STALE_TERM` when it was refused
   *   for carrying an older term (fencing: it changed nothing), for the caller's logs
   */
  step(message: Message): Extract<ReplicationErrorCode, 'E_RAFT_STALE_TERM'> | null {
    if (message.to !== this.id) return null;
    if (message.term > this.#term) {
      const leader = message.type === 'append' || message.type === 'snapshot' ? message.from : null;
      this.#becomeFollower(message.term, leader);
    } else if (message.term < this.#term) {
      this.#refuseStale(message);
      return 'E_RAFT_STALE_TERM';
    }
    const pr = this.#progress.get(message.from);
    if (pr !== undefined) pr.active = true;
    switch (message.type) {
      case 'vote': this.#handleVote(message); break;
      case 'vote_reply': this.#handleVoteReply(message); break;
      case 'append': this.#handleAppend(message); break;
      case 'append_reply': this.#handleAppendReply(message); break;
      case 'snapshot': this.#handleSnapshot(message); break;
      case 'snapshot_reply': this.#handleSnapshotReply(message); break;
    }
    return null;
  }

  /**
   * Fencing: a request from an older term gets a refusal carrying our term (an append
   * refusal answers a snapshot too: the sender only needs the term); an old reply is ignored.
   */
  #refuseStale(message: Message): void {
    if (message.type === 'append' || message.type === 'snapshot') {
      this.#send({ type: 'append_reply', from: this.id, to: message.from, term: this.#term, success: false, prevIndex: 0, matchIndex: 0, conflictIndex: 0, conflictTerm: 0 });
    } else if (message.type === 'vote') {
      this.#send({ type: 'vote_reply', from: this.id, to: message.from, term: this.#term, granted: false });
    }
  }
  // #endregion raft-term-rule

  // #region raft-vote-rule
  #handleVote(m: VoteRequest): void {
    // One vote per term: free to vote only when not yet voted (and no leader known) this term.
    const free = this.#vote === m.from || (this.#vote === null && this.#leader === null);
    // §5.4.1: withhold the vote from a candidate whose log is less up to date than ours.
    const lastTerm = this.#log.lastTerm;
    const upToDate = m.lastTerm > lastTerm || (m.lastTerm === lastTerm && m.lastIndex >= this.#log.lastIndex);
    const granted = free && upToDate;
    if (granted) {
      this.#vote = m.from; // persisted in the same Ready as the reply, before the reply is sent
      this.#resetElectionTimer();
    }
    this.#send({ type: 'vote_reply', from: this.id, to: m.from, term: this.#term, granted });
  }
  // #endregion raft-vote-rule

  #handleVoteReply(m: VoteResponse): void {
    if (this.#role !== 'candidate') return;
    this.#votes.set(m.from, m.granted);
    let granted = 0;
    let refused = 0;
    for (const g of this.#votes.values()) {
      if (g) granted++;
      else refused++;
    }
    if (granted >= this.#quorum) this.#becomeLeader();
    else if (refused >= this.#quorum) this.#becomeFollower(this.#term, null);
  }

  // #region raft-append-check
  #handleAppend(m: AppendRequest): void {
    if (this.#role !== 'follower' || this.#leader !== m.from) this.#becomeFollower(this.#term, m.from);
    this.#resetElectionTimer();
    const commit = this.#log.commit;
    let prevIndex = m.prevIndex;
    let prevTerm = m.prevTerm;
    let entries = m.entries;
    if (prevIndex < commit) {
      // Our log up to the commit index matches the leader's (Leader Completeness), even
      // where it is compacted: check only what follows it.
      if (prevIndex + entries.length <= commit) {
        this.#replyAppend(m, { success: true, matchIndex: commit, conflictIndex: 0, conflictTerm: 0 });
        return;
      }
      entries = entries.slice(commit - prevIndex);
      prevIndex = commit;
      prevTerm = this.#log.term(commit) as number;
    }
    if (!this.#log.matchTerm(prevIndex, prevTerm)) {
      // Conflict hints: the first index of our term at prevIndex, or our end when we are too short.
      const mine = this.#log.term(prevIndex);
      const conflictIndex = mine === undefined ? this.#log.lastIndex + 1 : this.#log.firstIndexOfTerm(prevIndex, mine);
      this.#replyAppend(m, { success: false, matchIndex: 0, conflictIndex: Math.max(conflictIndex, commit + 1), conflictTerm: mine ?? 0 });
      return;
    }
    this.#log.appendWithTruncate(entries);
    // Commit only what this message proved we hold: a stale suffix past it may still differ.
    const matchIndex = prevIndex + entries.length;
    const newCommit = Math.min(m.commit, matchIndex);
    if (newCommit > this.#log.commit) this.#log.commit = newCommit;
    this.#replyAppend(m, { success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 });
  }

  #replyAppend(m: AppendRequest, result: Pick<AppendResponse, 'success' | 'matchIndex' | 'conflictIndex' | 'conflictTerm'>): void {
    this.#send({
      type: 'append_reply', from: this.id, to: m.from, term: this.#term, prevIndex: m.prevIndex,
      success: result.success, matchIndex: result.matchIndex, conflictIndex: result.conflictIndex, conflictTerm: result.conflictTerm,
    });
  }
  // #endregion raft-append-check

  #handleSnapshot(m: SnapshotRequest): void {
    if (this.#role !== 'follower' || this.#leader !== m.from) this.#becomeFollower(this.#term, m.from);
    this.#resetElectionTimer();
    const snap = m.snapshot;
    if (snap.index > this.#log.commit) {
      if (this.#log.matchTerm(snap.index, snap.term)) this.#log.commit = snap.index; // we hold it already: just commit
      else this.#log.restore(snap);
    }
    const reply: SnapshotResponse = { type: 'snapshot_reply', from: this.id, to: m.from, term: this.#term, matchIndex: this.#log.commit };
    this.#send(reply);
  }

  #handleAppendReply(m: AppendResponse): void {
    if (this.#role !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    if (m.success) {
      this.#acknowledge(m.from, pr, m.matchIndex);
      return;
    }
    this.#backUp(m.from, pr, m);
  }

  #handleSnapshotReply(m: SnapshotResponse): void {
    if (this.#role !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    if (pr.state === 'snapshot') this.#becomeProbe(pr, Math.max(pr.match, m.matchIndex) + 1);
    this.#acknowledge(m.from, pr, m.matchIndex);
  }

  #acknowledge(to: NodeId, pr: Progress, matchIndex: number): void {
    pr.inflight = pr.inflight.filter((last) => last > matchIndex);
    pr.paused = false;
    if (matchIndex > pr.match) {
      pr.match = matchIndex;
      pr.rejections = 0;
      pr.acked = true;
      if (pr.next <= matchIndex) pr.next = matchIndex + 1;
      if (pr.state === 'probe') {
        pr.state = 'replicate';
        pr.next = matchIndex + 1;
      }
      this.#maybeCommit(); // the new commit index rides the next append or heartbeat
    }
    // What the follower still lacks leaves with the next ready(), in one append together
    // with everything proposed meanwhile, rather than one small append per acknowledgement.
    if (pr.match < this.#log.lastIndex) this.#appendDue.add(to);
  }

  // #region raft-catch-up
  /**
   * A follower refused an append: jump `next` back a whole term using its hints (the
   * leader's last entry of the conflicting term, or the follower's first index of it),
   * and after `maxCatchUpSteps` refusals fall back to the snapshot.
   */
  #backUp(to: NodeId, pr: Progress, m: AppendResponse): void {
    // A refusal of an index we already know matches, or of an append we did not just
    // probe with, is stale (reordered or duplicated): ignore it.
    if (m.prevIndex <= pr.match) return;
    if (pr.state === 'probe' && m.prevIndex !== pr.next - 1) return;
    let next = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const last = this.#log.lastIndexOfTerm(m.conflictTerm);
      if (last !== undefined) next = last + 1;
    }
    next = Math.max(pr.match + 1, Math.min(next, m.prevIndex));
    this.#becomeProbe(pr, next);
    pr.rejections++;
    const snap = this.#log.snapshot;
    if (pr.rejections >= this.#config.maxCatchUpSteps && snap !== null && snap.index > pr.match) {
      this.#sendSnapshot(to, pr);
      return;
    }
    this.#sendAppend(to, pr);
  }
  // #endregion raft-catch-up

  #becomeProbe(pr: Progress, next: number): void {
    pr.state = 'probe';
    pr.next = next;
    pr.paused = false;
    pr.inflight = [];
  }

  #sendSnapshot(to: NodeId, pr: Progress): void {
    const snapshot = this.#log.snapshot as Snapshot;
    pr.state = 'snapshot';
    pr.rejections = 0;
    pr.inflight = [];
    this.#send({ type: 'snapshot', from: this.id, to, term: this.#term, snapshot });
  }

  /** Sends what `to` needs next: entries from `next` (pipelined in `replicate`), or the snapshot when they are compacted. */
  #sendAppend(to: NodeId, pr: Progress): void {
    if (pr.state === 'snapshot') return;
    if (pr.state === 'probe' && pr.paused) return;
    const last = this.#log.lastIndex;
    if (pr.state === 'replicate' && (pr.next > last || pr.inflight.length >= MAX_INFLIGHT_APPENDS)) return;
    do {
      const prevIndex = pr.next - 1;
      const prevTerm = this.#log.term(prevIndex);
      if (prevTerm === undefined) {
        if (this.#log.snapshot !== null) this.#sendSnapshot(to, pr);
        return;
      }
      const hi = Math.min(last, prevIndex + this.#config.maxEntriesPerAppend);
      const entries = this.#log.slice(pr.next, hi);
      this.#send({ type: 'append', from: this.id, to, term: this.#term, prevIndex, prevTerm, entries, commit: this.#log.commit });
      if (pr.state === 'probe') {
        pr.paused = true;
        return;
      }
      if (entries.length === 0) return;
      pr.next = hi + 1;
      pr.inflight.push(hi);
    } while (pr.next <= last && pr.inflight.length < MAX_INFLIGHT_APPENDS);
  }

  /**
   * Heartbeats: an empty append at the follower's known match (so it cannot be refused
   * for entries still in flight) carrying the commit index. A follower that stayed
   * behind without progress for two whole rounds is probed again from its match: the
   * appends in flight to it were probably lost (one round is too eager: entries sent
   * just before a heartbeat have had no time for their round trip).
   */
  #heartbeat(): void {
    for (const [to, pr] of this.#progress) {
      pr.stalled = pr.acked || pr.match >= this.#log.lastIndex ? 0 : pr.stalled + 1;
      pr.acked = false;
      if (pr.stalled >= 2 && pr.state !== 'probe') this.#becomeProbe(pr, pr.match + 1);
      if (pr.state === 'probe') {
        pr.paused = false;
        this.#sendAppend(to, pr);
        continue;
      }
      if (pr.state === 'snapshot') continue;
      const prevTerm = this.#log.term(pr.match);
      if (prevTerm === undefined) {
        this.#becomeProbe(pr, pr.match + 1);
        this.#sendAppend(to, pr);
        continue;
      }
      this.#send({ type: 'append', from: this.id, to, term: this.#term, prevIndex: pr.match, prevTerm, entries: [], commit: this.#log.commit });
    }
  }

  /**
   * Sends every follower the entries it is missing. A follower that has them all hears of
   * a new commit index with the next append or heartbeat, as in etcd: a message of its own
   * for every commit would double the messages (and their signatures) per write, and
   * nothing waits on a follower's apply — the leader answers the client.
   */
  #broadcast(): void {
    this.#broadcastDue = false;
    for (const [to, pr] of this.#progress) {
      if (pr.state === 'probe') pr.paused = false;
      if (pr.next <= this.#log.lastIndex) this.#sendAppend(to, pr);
    }
  }

  // #region raft-commit-rule
  /**
   * Advances the commit index to the highest index a majority stores, counting the
   * leader only for what it has persisted, and only when that entry is of the current
   * term (Figure 8: counting replicas of an older term's entry is unsafe).
   * @returns true when the commit index moved
   */
  #maybeCommit(): boolean {
    const matches = [this.#log.stableIndex];
    for (const pr of this.#progress.values()) matches.push(pr.match);
    matches.sort((a, b) => b - a);
    const majorityIndex = matches[this.#quorum - 1] as number;
    if (majorityIndex <= this.#log.commit) return false;
    if (!this.countsReplicasAt(majorityIndex)) return false;
    this.#log.commit = majorityIndex;
    return true;
  }

  /**
   * Whether replica counting may commit the entry at `index`: only an entry of the
   * leader's current term. Protected so a test can build the unsafe variant of Figure 8
   * as a negative control; nothing else should override it.
   */
  protected countsReplicasAt(index: number): boolean {
    return this.#log.term(index) === this.#term;
  }
  // #endregion raft-commit-rule

  #send(message: Message): void {
    this.#messages.push(message);
  }

  #hardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#log.commit };
  }

  #softState(): SoftState {
    return { role: this.#role, leader: this.#leader, term: this.#term };
  }

  /** True when {@link ready} has anything to persist, send or apply. */
  hasReady(): boolean {
    const soft = this.#reportedSoftState;
    return this.#broadcastDue
      || this.#appendDue.size > 0
      || this.#messages.length > 0
      || this.#log.pendingSnapshot !== null
      || this.#log.unstableEntries().length > 0
      || this.#log.commit > this.#log.applied
      || !sameHardState(this.#hardState(), this.#persistedHardState)
      || soft.role !== this.#role || soft.leader !== this.#leader || soft.term !== this.#term;
  }

  /**
   * What the caller must do now: persist `snapshot`, `entries` and `hardState`, then send
   * `messages`, then apply `committed`, then call {@link advance} with this Ready. Call
   * `advance` before the next `ready()`.
   */
  ready(): Ready {
    if (this.#broadcastDue) this.#broadcast();
    for (const to of this.#appendDue) {
      const pr = this.#progress.get(to);
      if (pr !== undefined && this.#role === 'leader') this.#sendAppend(to, pr);
    }
    this.#appendDue.clear();
    const hard = this.#hardState();
    const soft = this.#softState();
    const prevSoft = this.#reportedSoftState;
    const softChanged = soft.role !== prevSoft.role || soft.leader !== prevSoft.leader || soft.term !== prevSoft.term;
    this.#reportedSoftState = soft;
    const messages = this.#messages;
    this.#messages = [];
    return {
      hardState: sameHardState(hard, this.#persistedHardState) ? null : hard,
      entries: this.#log.unstableEntries(),
      snapshot: this.#log.pendingSnapshot,
      messages,
      committed: this.#log.committedToApply(),
      softState: softChanged ? soft : null,
    };
  }

  /**
   * The caller did everything `ready` asked: its entries and hard state are durable and
   * its committed entries applied. A leader now counts its own copy toward the majority.
   */
  advance(ready: Ready): void {
    if (ready.hardState !== null) this.#persistedHardState = ready.hardState;
    if (ready.snapshot !== null) this.#log.snapshotApplied(ready.snapshot);
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry !== undefined) this.#log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = ready.committed[ready.committed.length - 1];
    if (lastApplied !== undefined) this.#log.applied = Math.max(this.#log.applied, lastApplied.index);
    if (this.#role === 'leader' && this.#maybeCommit()) this.#broadcast();
  }

  /**
   * The application took a snapshot at an applied index: keep it to send to laggards and
   * drop the log entries it covers.
   * @throws CivicError `E_RAFT_COMPACT_INVALID` beyond the applied index or on a term mismatch
   */
  compact(snapshot: Snapshot): void {
    this.#log.compact(snapshot);
  }
}

/**
 * How many of `ready.committed`, from the front, may be applied before `ready` is
 * persisted: those an earlier Ready's save already made durable, i.e. every committed entry
 * below the first entry this Ready appends (none when a snapshot replaces the log). The
 * rest wait for the save, as the contract in `raft_types.ts` says.
 * @param ready - the Ready about to be handled
 * @returns a count from the front of `ready.committed`
 */
export function committedBeforeSave(ready: Ready): number {
  if (ready.snapshot !== null) return 0;
  const firstNew = ready.entries[0]?.index ?? Infinity;
  let n = 0;
  while (n < ready.committed.length && ready.committed[n]!.index < firstNew) n++;
  return n;
}
