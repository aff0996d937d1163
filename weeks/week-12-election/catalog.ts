/**
 * Week 12's error catalog: how a cluster client gives up, how the replicated dedupe
 * table refuses a late duplicate, and how a term fence refuses a deposed leader.
 *
 * How the exit statuses were chosen:
 *
 * - a client that ran out of attempts (`E_CLIENT_RETRIES_EXHAUSTED`) or of time
 *   (`E_CLIENT_DEADLINE`) exits 7 (`unavailable`) and is indefinite: an earlier attempt
 *   may have reached the leader and committed, so the caller retries with the SAME
 *   request id, never a new one;
 * - a reply the client cannot read (`E_CLIENT_REPLY_MALFORMED`) exits 8 (`integrity`)
 *   and is indefinite: the node spoke, so the command may have been applied;
 * - a late duplicate past the dedupe TTL (`E_DEDUPE_EXPIRED`) exits 3 (`data`) and is
 *   definite: the replicas refused to run it again, and nothing changed;
 * - a log entry whose stamped command does not parse (`E_STAMP_MALFORMED`) exits 3
 *   (`data`) and is definite; a snapshot taken under another TTL
 *   (`E_DEDUPE_TTL_MISMATCH`) exits 3 and is definite (it was not restored);
 * - a request stamped with a term older than one already seen (`E_FENCED_STALE_TERM`)
 *   exits 7 (`unavailable`) and is definite: the fence stopped the side effect.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the cluster client, the TTL dedupe table and the term fence. */
export const ELECTION_ERRORS = defineErrors({
  E_CLIENT_RETRIES_EXHAUSTED: {
    exit: 'unavailable', http: 503, definite: false,
    summary: 'The client used every attempt it was allowed without a final answer from the cluster',
    action: 'Check that a majority of nodes is up, then retry with the same request id (never a fresh one: the command may have committed)',
  },
  E_CLIENT_DEADLINE: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The client ran out of its time budget before the cluster gave a final answer',
    action: 'Retry with the same request id once the cluster has a leader, or raise the time budget',
  },
  E_CLIENT_REPLY_MALFORMED: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'A node answered with bytes that are not a KV reply carrying term and node',
    action: 'Check that every node runs a replica of the same version; the command may have been applied',
  },
  E_DEDUPE_EXPIRED: {
    exit: 'data', http: 410, definite: true,
    summary: 'The request id was first applied longer ago than the dedupe TTL, so this late duplicate was refused, not run again',
    action: 'Read the key to learn whether the first attempt took effect; send a new command with a fresh request id if it did not',
  },
  E_STAMP_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A log entry does not hold a stamped command: canonical JSON {at_ms, command}',
    action: 'Report it: only the leader writes stamped commands, so a malformed one comes from a faulty or foreign build',
  },
  E_DEDUPE_TTL_MISMATCH: {
    exit: 'data', http: 422, definite: true,
    summary: 'A snapshot was taken under another dedupe TTL or tombstone bound than this replica is configured with',
    action: 'Run every replica with the same --dedupe-ttl-ms and tombstone bound; replicas with different ones would diverge',
  },
  E_FENCED_STALE_TERM: {
    exit: 'unavailable', http: 409, definite: true,
    summary: 'The request or answer carries a term older than one already seen: it comes from a deposed leader',
    action: 'Nothing was done on its behalf; send the request to the current leader (the client does this itself)',
  },
});
// #endregion catalog

/** Any of week 12's error codes. */
export type ElectionErrorCode = keyof typeof ELECTION_ERRORS;
