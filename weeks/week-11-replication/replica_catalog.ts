/**
 * The error codes of the real replica (week 11): its storage, its node-to-node codec, its
 * client refusals beyond the core's `E_RAFT_NOT_LEADER`, its cluster config and the fault
 * proxy. The pure core's own codes live in `catalog.ts`.
 *
 * `E_RAFT_UNCERTAIN` is the one indefinite refusal: the command was appended to a log and
 * may still commit, so a client retries it with the same request id and the state
 * machine's dedupe returns the first answer.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region replica-catalog
/** The error codes of the replica node, its storage, transport, config and fault proxy. */
export const REPLICA_ERRORS = defineErrors({
  E_RAFT_UNCERTAIN: {
    exit: 'unavailable', http: 503, definite: false,
    summary: 'The command was proposed but leadership was lost or it did not commit in time: it may still commit',
    action: 'Retry with the same request id (the dedupe table answers a retry of a committed command with its first result)',
  },
  E_RAFT_STORAGE_CORRUPT: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'The Raft log on disk does not read back as a log: a record is not a Raft record or entries have a hole',
    action: 'Inspect the WAL directory named in the message; the node refuses to start on a log it cannot trust',
  },
  E_RAFT_SNAPSHOT_MISSING: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'The log names a snapshot whose file is missing or does not match its recorded hash',
    action: 'Restore the snapshot file from a backup, or wipe this node\'s data directory so the leader re-sends a snapshot',
  },
  E_RAFT_MESSAGE_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A node-to-node message does not decode as a Raft message',
    action: 'Check that every node runs the same build; the message was dropped, never stepped',
  },
  E_RAFT_PEER_UNTRUSTED: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'A node-to-node message was signed by a key that is not the named sender\'s',
    action: 'Check the cluster config\'s key set; the message was dropped and counted',
  },
  E_RAFT_SHUTTING_DOWN: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The node is draining and takes no new requests',
    action: 'Send the request to another node (the status answer names the leader)',
  },
  E_CLUSTER_CONFIG_INVALID: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The cluster config file is not a valid cluster description or does not name this node',
    action: 'Fix the file named in the message (nodes need id, host, peer_port, client_port, key_id)',
  },
  E_PROXY_COMMAND_INVALID: {
    exit: 'usage', http: 400, definite: true,
    summary: 'A fault proxy control command is not one of partition, delay <ms>, heal, status',
    action: 'Send one of the documented commands',
  },
});
// #endregion replica-catalog

/** Any code of {@link REPLICA_ERRORS}. */
export type ReplicaErrorCode = keyof typeof REPLICA_ERRORS;
