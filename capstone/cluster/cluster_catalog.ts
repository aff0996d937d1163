/**
 * The error catalog of the cluster launcher and the `civictrust cluster` commands: how
 * starting a replica cluster fails, and how a command finds no cluster to talk to.
 *
 * How the exit statuses were chosen:
 *
 * - a node that exits while starting (`E_CLUSTER_NODE_EXITED`) or a cluster that elects
 *   no leader in time (`E_CLUSTER_NO_LEADER`) exits 7 (`unavailable`); both are definite:
 *   the launcher stopped every node it had started, and no client write was taken;
 * - a node id the config does not list (`E_CLUSTER_NODE_UNKNOWN`) exits 2 (`usage`);
 * - no running launcher recorded for the cluster directory, or a node that is not
 *   running (`E_CLUSTER_NOT_RUNNING`) exits 4 (`not found`);
 * - replicas at the same applied index with different state hashes
 *   (`E_CLUSTER_DIVERGED`) exit 8 (`integrity`): the replicated state machines disagree;
 * - no node answering a status request (`E_CLUSTER_UNREACHABLE`) exits 7 (`unavailable`).
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the cluster launcher and the `cluster` command group. */
export const CLUSTER_ERRORS = defineErrors({
  E_CLUSTER_NODE_EXITED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'A replica process exited before it printed its listening line',
    action: 'Read the node\'s log in <dir>/logs/<id>.log (a port taken, a key file\'s mode, a damaged log)',
  },
  E_CLUSTER_NO_LEADER: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The cluster did not elect a leader that a majority of nodes agree on in time',
    action: 'Check that a majority of nodes is running and can reach each other; the logs in <dir>/logs say why',
  },
  E_CLUSTER_NODE_UNKNOWN: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The node id is not listed in the cluster config',
    action: 'Use one of the ids `civictrust cluster status` lists (n1, n2, …)',
  },
  E_CLUSTER_NOT_RUNNING: {
    exit: 'notFound', http: 404, definite: true,
    summary: 'No running launcher or node is recorded for this cluster directory',
    action: 'Start the cluster with `civictrust cluster start --dir DIR` (or `npm run cluster`) first',
  },
  E_CLUSTER_DIVERGED: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'Replicas that applied the same number of entries report different state hashes',
    action: 'Stop writing to the cluster and compare the nodes\' logs and snapshots: the replicated state machines disagree',
  },
  E_CLUSTER_UNREACHABLE: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'No node of the cluster answered a status request',
    action: 'Check that the cluster is running (`civictrust cluster start`) and that --config names its cluster.json',
  },
});
// #endregion catalog

/** Any of the cluster launcher's error codes. */
export type ClusterErrorCode = keyof typeof CLUSTER_ERRORS;
