/**
 * The capstone's replica cluster: the launcher (week 12's replica processes for one
 * cluster directory), the status helpers, and the `cluster` command group. The CLI, the
 * month 3 demo and `npm start` import from here.
 * @module
 */
export { CLUSTER_ERRORS } from './cluster_catalog.ts';
export type { ClusterErrorCode } from './cluster_catalog.ts';
export { agreedLeader, converged, divergentNodes, statusTable } from './cluster_status.ts';
export type { NodeStatus } from './cluster_status.ts';
export {
  CLUSTER_FILE, LAUNCH_TUNING, PIDS_FILE, RunningCluster, clientAddresses, clusterStatus, openClusterClient, queryStatus, readPids, waitForConvergence, waitForLeader,
} from './node_launcher.ts';
export type { ClusterPids, LaunchOptions, NodeExit } from './node_launcher.ts';
export { CLUSTER_COMMANDS } from './node_cluster_commands.ts';
