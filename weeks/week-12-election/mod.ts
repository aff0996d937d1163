/**
 * Week 12's public surface: the error catalog, the cluster client's pure retry
 * rule, the replicated dedupe table with a TTL, the term fence, and the TCP cluster
 * client, and the replica process that applies through the TTL table. `lib/election.ts`
 * re-exports from here and nowhere else in this folder.
 * @module
 */
export { ELECTION_ERRORS } from './catalog.ts';
export type { ElectionErrorCode } from './catalog.ts';
export { DEFAULT_CLUSTER_RETRY_POLICY, classifyOutcome, decideRetry } from './retry_policy.ts';
export type { ClusterRetryPolicy, AttemptOutcome, RetryInput, RetryDeps, RetryReason, RetryStopReason, RetryStep, OutcomeClass } from './retry_policy.ts';
export { TTL_SNAPSHOT_SCHEMA_VERSION, TTL_SNAPSHOT_MAGIC, DEFAULT_TOMBSTONE_CAPACITY, stampCommand, parseStampedCommand, TtlDedupeKv } from './dedupe_ttl.ts';
export type { ReplicatedEntry, ReplicatedSnapshot, ReplicatedApplication, StampedCommand, DedupeExpired, TtlApplyReply, TtlDedupeOptions, TtlDedupeStats } from './dedupe_ttl.ts';
export { TermFence } from './fencing.ts';
export { parseNodeAddress, nodeTermOf, parseClusterReply, ClusterClient } from './node_cluster_client.ts';
export type { ClusterReply, AttemptTrace, ClusterResult, ClusterClientOptions } from './node_cluster_client.ts';
export { DEFAULT_DEDUPE_TTL_MS, clusterNodeMain } from './node_cluster_main.ts';
