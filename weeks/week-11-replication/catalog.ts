/**
 * The error codes of the pure replication core (week 11): a proposal refused because this
 * node does not lead, a message fenced off for carrying an older term, a caller that
 * hands the core an impossible compaction or restore, and a safety invariant the
 * deterministic simulator caught breaking.
 *
 * How the exit statuses were chosen:
 *
 * - `E_RAFT_NOT_LEADER` exits 7 (`unavailable`) and is definite: nothing was appended, so
 *   the client retries at the leader the refusal names, with the same request id;
 * - `E_RAFT_STALE_TERM` exits 7 (`unavailable`) and is definite: a message or request
 *   stamped with an older term is refused before it touches the log (fencing a deposed
 *   leader);
 * - a caller bug (`E_RAFT_COMPACT_INVALID`, `E_RAFT_RESTORE_INVALID`) exits 70 (`internal`);
 * - a broken safety property (`E_RAFT_SAFETY`) exits 8 (`integrity`): replicas disagree;
 * - a simulated cluster that does not converge once healed (`E_RAFT_STALLED`) exits 70.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the Raft core and its simulator. */
export const REPLICATION_ERRORS = defineErrors({
  E_RAFT_NOT_LEADER: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'This node is not the leader of its term, so it appended nothing',
    action: 'Retry at the leader named in the refusal (or any node when none is known) with the same request id',
  },
  E_RAFT_STALE_TERM: {
    exit: 'unavailable', http: 409, definite: true,
    summary: 'The request or message carries a term older than the node\'s own: it comes from a deposed leader and is refused',
    action: 'Refresh the leader and term (the refusal carries the current term) and retry there',
  },
  E_RAFT_COMPACT_INVALID: {
    exit: 'internal', http: 500, definite: true,
    summary: 'A snapshot handed to compact() is beyond the applied index or does not match the log\'s term at its index',
    action: 'Compact only at an index the application has applied, with the term of that entry',
  },
  E_RAFT_RESTORE_INVALID: {
    exit: 'internal', http: 500, definite: true,
    summary: 'The persisted state handed to the constructor is not a log: entries are not contiguous after the snapshot or the commit is beyond them',
    action: 'Check the storage adapter: it must return exactly what Ready asked it to persist',
  },
  E_RAFT_SAFETY: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A Raft safety property broke: two leaders in one term, diverging logs, or replicas that applied different entries',
    action: 'Replay the simulation with the seed in the message; this is a bug in the core or in what the caller persisted',
  },
  E_RAFT_STALLED: {
    exit: 'internal', http: 500, definite: true,
    summary: 'A simulated cluster did not elect a leader and apply every entry within the ticks allowed after its faults were healed',
    action: 'Replay the simulation with the seed in the message; a healed cluster must make progress (liveness)',
  },
});
// #endregion catalog

/** Any of week 11's core error codes. */
export type ReplicationErrorCode = keyof typeof REPLICATION_ERRORS;
