/**
 * Replication (week 11): the pure Raft core and its Ready hand-off, the deterministic
 * simulator, the linearizability checker, WAL-backed Raft storage, the signed peer
 * transport, the replica node and process, the fault-injecting TCP proxy, and the
 * real-process cluster test kit.
 * @module replication
 * @category Week 11
 */
export { REPLICATION_ERRORS } from '../weeks/week-11-replication/mod.ts';
export type { ReplicationErrorCode } from '../weeks/week-11-replication/mod.ts';
export type {
  NodeId, Entry, HardState, SnapshotMeta, Snapshot, AppendRequest, AppendResponse, VoteRequest, VoteResponse,
  SnapshotRequest, SnapshotResponse, Message, Role, SoftState, Ready, RaftConfig, RaftRestore, ProposeResult,
} from '../weeks/week-11-replication/mod.ts';
export { RaftLog } from '../weeks/week-11-replication/mod.ts';
export { MAX_INFLIGHT_APPENDS, RaftNode } from '../weeks/week-11-replication/mod.ts';
export type { ProgressState, Progress } from '../weeks/week-11-replication/mod.ts';
export { RELIABLE_NETWORK, Simulation, runSeed } from '../weeks/week-11-replication/mod.ts';
export type { KvOperation, NetworkOptions, SimOptions, Disk, MessageStats, SeedOptions, SeedResult } from '../weeks/week-11-replication/mod.ts';
export { sweep } from '../weeks/week-11-replication/mod.ts';
export type { SweepSummary, SweepFailure } from '../weeks/week-11-replication/mod.ts';
export { LIN_ERRORS } from '../weeks/week-11-replication/mod.ts';
export type { LinErrorCode } from '../weeks/week-11-replication/mod.ts';
export { checkOperations, createKvModel, kvModel, registerModel } from '../weeks/week-11-replication/mod.ts';
export type {
  Operation, Model, CheckResult, CheckOptions, KvInput, KvOutput, KvModelOptions, KvState,
  RegisterRead, RegisterWrite, RegisterCas, RegisterInput, RegisterOutput,
} from '../weeks/week-11-replication/mod.ts';
export { parseJepsenEtcdHistory, parseKvHistory } from '../weeks/week-11-replication/mod.ts';
export { LIN_COMMANDS } from '../weeks/week-11-replication/mod.ts';
export { REPLICA_ERRORS } from '../weeks/week-11-replication/mod.ts';
export type { ReplicaErrorCode } from '../weeks/week-11-replication/mod.ts';
export {
  RAFT_MSG_TYPE, encodeRaftMessage, decodeRaftMessage, isNodeId,
  isStatusRequest, statusRequest, stampReply, encodeReply,
} from '../weeks/week-11-replication/mod.ts';
export type { NotLeaderReply, ReplicaRefusal, StatusReply, ReplicaStamp, ReplicaReply } from '../weeks/week-11-replication/mod.ts';
export { RAFT_RECORD_KEYS, EMPTY_HARD_STATE, RaftStorage } from '../weeks/week-11-replication/mod.ts';
export type { RaftStorageOpened, RaftStorageStats } from '../weeks/week-11-replication/mod.ts';
export { MAX_PEER_FRAME_BYTES, DEFAULT_PEER_QUEUE, PeerTransport } from '../weeks/week-11-replication/mod.ts';
export type { PeerAddress, PeerTransportOptions, PeerTransportStats } from '../weeks/week-11-replication/mod.ts';
export { KvApp, Replica } from '../weeks/week-11-replication/mod.ts';
export type { ReplicatedApp, ReplicaOptions } from '../weeks/week-11-replication/mod.ts';
export {
  readClusterConfig, nodeOf, entryPoint, dialAddress, replicaOptions, freePorts, writeCluster, runReplicaProcess, replicaProcessMain,
} from '../weeks/week-11-replication/mod.ts';
export type { NodeProxyConfig, NodeConfig, ClusterConfig, WriteClusterOptions, WrittenCluster, ReplicaProcessOptions } from '../weeks/week-11-replication/mod.ts';
export { FaultProxy, nodeProxyRoutes } from '../weeks/week-11-replication/mod.ts';
export type { ProxyRoute, ProxyState } from '../weeks/week-11-replication/mod.ts';
export { ProcessCluster, until } from '../weeks/week-11-replication/mod.ts';
export type { ProcessClusterOptions } from '../weeks/week-11-replication/mod.ts';
