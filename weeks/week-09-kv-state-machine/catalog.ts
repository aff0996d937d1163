/**
 * Week 9's error catalog: every way a KV command, a checksummed record or a snapshot
 * can be refused, each with one stable code.
 *
 * How the exit statuses were chosen:
 *
 * - a command the state machine cannot accept as written (`E_KV_COMMAND_INVALID`, a
 *   request id reused for a different command) exits 3 (`data`): the sender fixes it;
 * - a missing key exits 4 (`notFound`), and a compare-and-set whose expected version
 *   is stale exits 1 (`negative`): a true answer, not a fault;
 * - bytes whose checksum does not match (`E_RECORD_CHECKSUM`, `E_SNAPSHOT_CHECKSUM`),
 *   or that stop part-way (`E_RECORD_TORN`, `E_SNAPSHOT_TRUNCATED`), exit 8
 *   (`integrity`): they must not be trusted or applied;
 * - a snapshot of a schema this code does not know exits 3 (`data`), and a directory
 *   with no usable snapshot exits 4 (`notFound`).
 *
 * Every refusal here is definite: a refused command changed nothing, and a refused
 * record or snapshot was never applied.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of KV commands, checksummed records and snapshots. */
export const KV_ERRORS = defineErrors({
  E_KV_COMMAND_INVALID: {
    exit: 'data', http: 400, definite: true,
    summary: 'The KV command is not well formed: an unknown op, a missing or badly formed field, or a key or value out of bounds',
    action: 'Send put {request_id, key, value}, delete {request_id, key} or get {key}; the message names the field',
  },
  E_KV_NOT_FOUND: {
    exit: 'notFound', http: 404, definite: true,
    summary: 'The key has no live value: it was never written or it was deleted',
    action: 'Check the key name, or write it first with civictrust kv put',
  },
  E_KV_VERSION_CONFLICT: {
    exit: 'negative', http: 409, definite: true,
    summary: 'The command named an expected version (if_version) and the key is at another version',
    action: 'Read the key again (civictrust kv get), decide on the current value, and retry with its version',
  },
  E_KV_REQUEST_ID_REUSED: {
    exit: 'data', http: 409, definite: true,
    summary: 'This request id was already used for a different command, so the command was not applied',
    action: 'Use a fresh request id for each new command; reuse one only to retry the very same command',
  },
  E_RECORD_CHECKSUM: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A persisted record does not match its CRC32C checksum, or its length field is impossible',
    action: 'Do not apply the record; restore from a good copy, and check the disk if it happens again',
  },
  E_RECORD_TORN: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A persisted record stops before its length says it ends: the write was cut short',
    action: 'Treat everything from this record on as never written; it was never acknowledged as whole',
  },
  E_SNAPSHOT_CHECKSUM: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A snapshot does not match its checksum, so it was not applied',
    action: 'Keep the previous good snapshot (done automatically) and delete or inspect the damaged file',
  },
  E_SNAPSHOT_TRUNCATED: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A snapshot file ends before its header says it does, so it was not applied',
    action: 'Keep the previous good snapshot (done automatically); the damaged write was never completed',
  },
  E_SNAPSHOT_SCHEMA: {
    exit: 'data', http: 422, definite: true,
    summary: 'A snapshot has a schema version this build does not know, so it was not applied',
    action: 'Load it with the build that wrote it, or keep the previous good snapshot (done automatically)',
  },
  E_SNAPSHOT_MALFORMED: {
    exit: 'data', http: 422, definite: true,
    summary: 'A snapshot passed its checksum but its contents are not a valid KV state',
    action: 'Report the file: a checksummed snapshot that does not parse was written by a faulty build',
  },
  E_SNAPSHOT_NONE: {
    exit: 'notFound', http: 404, definite: true,
    summary: 'The snapshot directory holds no snapshot that passes its checksum and schema checks',
    action: 'Start empty (omit --snapshot-dir) or restore a good snapshot file into the directory',
  },
});
// #endregion catalog

/** A code of {@link KV_ERRORS}. */
export type KvErrorCode = keyof typeof KV_ERRORS;
