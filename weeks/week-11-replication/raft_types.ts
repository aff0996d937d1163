/**
 * The vocabulary of the replication core: log entries, the persistent state a node must
 * never forget, the messages nodes exchange, and the `Ready` hand-off between the pure
 * core and whatever runs it (the deterministic simulator, or a real node with a WAL and
 * TCP).
 *
 * The core follows etcd's raft library in shape: messages and ticks go in, and a
 * {@link Ready} comes out listing what to persist, what to send and what to apply. The
 * caller does every piece of I/O, in this order:
 *
 * ```text
 *   ready = node.ready()
 *   1. persist  ready.snapshot, ready.entries (truncating any suffix they replace), ready.hardState
 *   2. send     ready.messages            (only after step 1 is durable)
 *   3. apply    ready.committed, in order (only entries step 1 has made durable)
 *   node.advance(ready)
 * ```
 *
 * Two shortcuts keep the rule and save a disk write of latency: a leader may send its
 * appends before step 1 (its own copy counts only after `advance`), and committed entries
 * that an earlier Ready's save made durable may be applied before step 1
 * (`committedBeforeSave` in `raft.ts` counts them).
 *
 * Nothing here reads a clock, draws a random number or touches a socket: time is a
 * count of `tick()` calls and randomness is an injected function.
 * @module
 */

/** A node's name in the cluster, e.g. `n1`. Stable for the node's whole life. */
export type NodeId = string;

/**
 * One log entry. Indexes start at 1 and are contiguous; `term` is the leader's term when
 * it appended the entry. `data === null` is the no-op a new leader appends so that
 * entries of earlier terms can commit (Raft §5.4.2).
 */
export interface Entry {
  /** Position in the log, from 1. */
  readonly index: number;
  /** Term of the leader that created the entry. */
  readonly term: number;
  /** The command, opaque to the core; null for a leader's no-op. */
  readonly data: Uint8Array | null;
}

/**
 * What a node must persist before it answers anyone: the latest term it has seen, whom it
 * voted for in that term, and the highest index it knows to be committed. Losing `term`
 * or `vote` lets a restarted node vote twice in one term.
 */
export interface HardState {
  /** The latest term this node has seen (0 before any election). */
  readonly term: number;
  /** The candidate this node voted for in `term`, or null. */
  readonly vote: NodeId | null;
  /** The highest log index known committed. */
  readonly commit: number;
}

/** Where a snapshot ends in the log: every entry up to `index` (of term `term`) is inside it. */
export interface SnapshotMeta {
  /** The last log index the snapshot covers. */
  readonly index: number;
  /** The term of that entry. */
  readonly term: number;
}

/** A state-machine snapshot as the core carries it: its position and its opaque bytes. */
export interface Snapshot extends SnapshotMeta {
  /** The application's snapshot bytes (week 9's format for the KV). */
  readonly data: Uint8Array;
}

/** The fields every message carries. */
interface MessageBase {
  /** The sender. */
  readonly from: NodeId;
  /** The recipient. */
  readonly to: NodeId;
  /** The sender's current term: a higher one makes the recipient a follower of it. */
  readonly term: number;
}

/**
 * Leader → follower: "after the entry at `prevIndex` of term `prevTerm`, your log holds
 * `entries`; everything up to `commit` is committed". An empty `entries` is a heartbeat.
 */
export interface AppendRequest extends MessageBase {
  /** Message kind. */
  readonly type: 'append';
  /** The index just before the first entry sent (0 for the start of the log). */
  readonly prevIndex: number;
  /** The term of the entry at `prevIndex` (0 when `prevIndex` is 0). */
  readonly prevTerm: number;
  /** The entries, contiguous from `prevIndex + 1`. */
  readonly entries: readonly Entry[];
  /** The leader's commit index. */
  readonly commit: number;
}

/**
 * Follower → leader: the answer to one {@link AppendRequest}. On success `matchIndex` is
 * the last index the follower now holds in agreement with the leader. On a mismatch the
 * hints let the leader skip back a whole term at a time instead of one entry per round
 * trip (the "fast backup" of the Raft paper's §5.3 note).
 */
export interface AppendResponse extends MessageBase {
  /** Message kind. */
  readonly type: 'append_reply';
  /** Whether the follower's log matched at `prevIndex` and took the entries. */
  readonly success: boolean;
  /** The `prevIndex` of the request this answers, so a stale answer can be told apart. */
  readonly prevIndex: number;
  /** On success: the highest index known to match the leader's log. */
  readonly matchIndex: number;
  /**
   * On rejection: the first index of the conflicting term in the follower's log, or the
   * follower's last index + 1 when its log is too short.
   */
  readonly conflictIndex: number;
  /** On rejection: the follower's term at `prevIndex`, or 0 when its log is too short. */
  readonly conflictTerm: number;
}

/** Candidate → voter: "vote for me in `term`; my log ends at (`lastIndex`, `lastTerm`)". */
export interface VoteRequest extends MessageBase {
  /** Message kind. */
  readonly type: 'vote';
  /** The candidate's last log index. */
  readonly lastIndex: number;
  /** The term of the candidate's last log entry. */
  readonly lastTerm: number;
}

/** Voter → candidate: the vote, granted or withheld. */
export interface VoteResponse extends MessageBase {
  /** Message kind. */
  readonly type: 'vote_reply';
  /** True when the voter voted for the candidate in `term`. */
  readonly granted: boolean;
}

/** Leader → follower too far behind for the log: "replace your state with this snapshot". */
export interface SnapshotRequest extends MessageBase {
  /** Message kind. */
  readonly type: 'snapshot';
  /** The snapshot to install. */
  readonly snapshot: Snapshot;
}

/** Follower → leader: the snapshot is installed (or was already covered) up to `index`. */
export interface SnapshotResponse extends MessageBase {
  /** Message kind. */
  readonly type: 'snapshot_reply';
  /** The last index the follower now holds. */
  readonly matchIndex: number;
}

/** Every message of the protocol. */
export type Message = AppendRequest | AppendResponse | VoteRequest | VoteResponse | SnapshotRequest | SnapshotResponse;

/** A node's role. */
export type Role = 'follower' | 'candidate' | 'leader';

/** State that is not persisted but that callers watch (role changes are logged). */
export interface SoftState {
  /** The node's role. */
  readonly role: Role;
  /** The leader this node knows for its current term, or null. */
  readonly leader: NodeId | null;
  /** The node's current term. */
  readonly term: number;
}

/**
 * What the core asks its caller to do, in the order the module comment gives. Every field
 * may be empty; `hasReady()` says whether any is not.
 */
export interface Ready {
  /** The hard state to persist, or null when it has not changed since the last `advance`. */
  readonly hardState: HardState | null;
  /**
   * Entries to append to stable storage. When the first one's index is at or below the
   * last stored index, the stored entries from that index on are replaced (a follower
   * overwriting a deposed leader's uncommitted suffix).
   */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and restore before applying anything else. */
  readonly snapshot: Snapshot | null;
  /** Messages to send, once the above is durable. */
  readonly messages: readonly Message[];
  /** Committed entries to apply to the state machine, in index order. */
  readonly committed: readonly Entry[];
  /** The new soft state, or null when it has not changed. */
  readonly softState: SoftState | null;
}

/** How a node is configured. All durations are in ticks. */
export interface RaftConfig {
  /** This node. */
  readonly id: NodeId;
  /** Every voter, this node included, in a fixed order. */
  readonly voters: readonly NodeId[];
  /**
   * The base election timeout: a follower that hears no leader for a random number of ticks
   * in [electionTicks, 2 × electionTicks) starts an election.
   */
  readonly electionTicks: number;
  /** A leader sends heartbeats every `heartbeatTicks` (must be well below electionTicks). */
  readonly heartbeatTicks: number;
  /** Uniform random numbers in [0, 1): seeded in the simulator, crypto-backed in a real node. */
  readonly random: () => number;
  /** The most entries one append message carries (batching without unbounded messages). */
  readonly maxEntriesPerAppend: number;
  /**
   * Rejected appends a leader retries for one follower before it falls back to sending a
   * snapshot (bounded catch-up).
   */
  readonly maxCatchUpSteps: number;
  /**
   * A leader that has not heard from a majority for an election timeout steps down, so a
   * leader cut off in a minority stops claiming leadership (and stops taking writes).
   */
  readonly checkQuorum: boolean;
}

/** The persisted state a node restarts from. */
export interface RaftRestore {
  /** The last persisted hard state. */
  readonly hardState: HardState;
  /** The last persisted snapshot, or null. */
  readonly snapshot: Snapshot | null;
  /** The persisted entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

/** The answer to a proposal. */
export type ProposeResult =
  | {
    /** Accepted. */
    readonly ok: true;
    /** The index the entry got: it is committed when the caller sees it in `Ready.committed`. */
    readonly index: number;
    /** The leader's term the entry was appended in. */
    readonly term: number;
  }
  | {
    /** Refused: this node is not the leader. */
    readonly ok: false;
    /** Always `E_RAFT_NOT_LEADER`. */
    readonly code: 'E_RAFT_NOT_LEADER';
    /** The leader this node knows for its term, as a redirect hint, or null. */
    readonly leader: NodeId | null;
    /** This node's term. */
    readonly term: number;
  };
