/**
 * Week 11's public surface: the Raft replication core (pure: messages and ticks in, a
 * `Ready` out), its deterministic simulator, the linearizability checker, and the real
 * replica — WAL-backed Raft storage, signed peer transport, the replica node with its
 * client port, the process and its cluster config, the fault-injecting TCP proxy, and the
 * real-process cluster test kit.
 * `lib/replication.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { REPLICATION_ERRORS } from './catalog.ts';
export type { ReplicationErrorCode } from './catalog.ts';
export type {
  NodeId, Entry, HardState, SnapshotMeta, Snapshot, AppendRequest, AppendResponse, VoteRequest, VoteResponse,
  SnapshotRequest, SnapshotResponse, Message, Role, SoftState, Ready, RaftConfig, RaftRestore, ProposeResult,
} from './raft_types.ts';
export { RaftLog } from './raft_log.ts';
export { MAX_INFLIGHT_APPENDS, RaftNode } from './raft.ts';
export type { ProgressState, Progress } from './raft.ts';
export { RELIABLE_NETWORK, Simulation, runSeed } from './sim.ts';
export type { KvOperation, NetworkOptions, SimOptions, Disk, MessageStats, SeedOptions, SeedResult } from './sim.ts';
export { sweep } from './node_sim_cli.ts';
export type { SweepSummary, SweepFailure } from './node_sim_cli.ts';
export { LIN_ERRORS } from './lin_catalog.ts';
export type { LinErrorCode } from './lin_catalog.ts';
export { checkOperations, createKvModel, kvModel, registerModel } from './linearizability.ts';
export type {
  Operation, Model, CheckResult, CheckOptions, KvInput, KvOutput, KvModelOptions, KvState,
  RegisterRead, RegisterWrite, RegisterCas, RegisterInput, RegisterOutput,
} from './linearizability.ts';
export { parseJepsenEtcdHistory, parseKvHistory } from './history_formats.ts';
export { LIN_COMMANDS } from './node_lin_cli.ts';
export { REPLICA_ERRORS } from './replica_catalog.ts';
export type { ReplicaErrorCode } from './replica_catalog.ts';
export {
  RAFT_MSG_TYPE, encodeRaftMessage, decodeRaftMessage, isNodeId,
  isStatusRequest, statusRequest, stampReply, encodeReply,
} from './replica_protocol.ts';
export type { NotLeaderReply, ReplicaRefusal, StatusReply, ReplicaStamp, ReplicaReply } from './replica_protocol.ts';
export { RAFT_RECORD_KEYS, EMPTY_HARD_STATE, RaftStorage } from './node_raft_storage.ts';
export type { RaftStorageOpened, RaftStorageStats } from './node_raft_storage.ts';
export { MAX_PEER_FRAME_BYTES, DEFAULT_PEER_QUEUE, PeerTransport } from './node_peer_transport.ts';
export type { PeerAddress, PeerTransportOptions, PeerTransportStats } from './node_peer_transport.ts';
export { KvApp, Replica } from './node_replica.ts';
export type { ReplicatedApp, ReplicaOptions } from './node_replica.ts';
export {
  readClusterConfig, nodeOf, entryPoint, dialAddress, replicaOptions, freePorts, writeCluster, runReplicaProcess, replicaProcessMain,
} from './node_replica_main.ts';
export type { NodeProxyConfig, NodeConfig, ClusterConfig, WriteClusterOptions, WrittenCluster, ReplicaProcessOptions } from './node_replica_main.ts';
export { FaultProxy, nodeProxyRoutes } from './node_fault_proxy.ts';
export type { ProxyRoute, ProxyState } from './node_fault_proxy.ts';
export { ProcessCluster, until } from './node_process_cluster.ts';
export type { ProcessClusterOptions } from './node_process_cluster.ts';
