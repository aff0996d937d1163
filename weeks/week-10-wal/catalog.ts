/**
 * Week 10's error catalog: every way a write-ahead log can refuse to append, refuse to
 * replay, or find itself damaged, each with one stable code.
 *
 * How the exit statuses were chosen:
 *
 * - a damaged log (`E_WAL_TORN`, `E_WAL_CORRUPT`, `E_WAL_GAP`) exits 8 (`integrity`): the
 *   bytes on disk are not what was acknowledged, and an operator must look (a torn tail is
 *   the one damage recovery cuts by itself; `E_WAL_CORRUPT` stops the store);
 * - a failed write or fdatasync (`E_WAL_IO`) exits 6 (`io`) and is indefinite: the record
 *   may or may not be on disk, so the log stops taking writes until it is reopened;
 * - appending to a closed log (`E_WAL_CLOSED`) exits 7 (`unavailable`) and is definite;
 * - a sync rule that is malformed or relaxes a critical command (`E_WAL_POLICY`) exits 2
 *   (`usage`): it is a configuration mistake, refused before the store opens.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the write-ahead log, its recovery and its checkpoints. */
export const WAL_ERRORS = defineErrors({
  E_WAL_TORN: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'The log ends inside a record: the process died while writing it, so it was never acknowledged',
    action: 'Nothing to do for acknowledged data; the partial record was moved to the quarantine file named in the message',
  },
  E_WAL_CORRUPT: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A record before the log\'s torn tail (if any) fails its CRC32C, its length or its order: acknowledged records are at stake, so the store refuses to start and moves nothing',
    action: 'Restore the log from a peer or a snapshot; or, accepting the loss of the LSNs named, cut it with `civictrust wal repair DIR --truncate-at LSN` (the cut bytes go to quarantine/)',
  },
  E_WAL_GAP: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'The log does not continue where the newest snapshot ends: records between them are missing',
    action: 'Restore the missing segment or an older snapshot; the store refuses to start with a hole in its history',
  },
  E_WAL_IO: {
    exit: 'io', http: 503, definite: false,
    summary: 'A write or fdatasync of the log failed, so the record may or may not be durable',
    action: 'Check the disk (space, errors in dmesg), then restart the store: the log takes no writes until reopened',
  },
  E_WAL_POLICY: {
    exit: 'usage', http: 500, definite: true,
    summary: 'A sync rule is malformed, or it would let a critical command (a delete or a compare-and-set) be acknowledged before its fsync',
    action: 'Give rules as CLASS=sync|none|interval:MS; only put may be relaxed',
  },
  E_WAL_CLOSED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The log was closed (or failed earlier) before this append was accepted',
    action: 'Reopen the store and retry the request with the same request id',
  },
});
// #endregion catalog

/** Any of week 10's error codes. */
export type WalErrorCode = keyof typeof WAL_ERRORS;
