/**
 * Election and idempotent clients (week 12): the client's retry rule, the replicated
 * dedupe table with a TTL, the term fence, the TCP cluster client, and the replica process
 * that applies through the TTL table.
 * @module election
 * @category Week 12
 */
export {
  ELECTION_ERRORS,
  DEFAULT_CLUSTER_RETRY_POLICY, classifyOutcome, decideRetry,
  TTL_SNAPSHOT_SCHEMA_VERSION, TTL_SNAPSHOT_MAGIC, DEFAULT_TOMBSTONE_CAPACITY, stampCommand, parseStampedCommand, TtlDedupeKv,
  TermFence,
  parseNodeAddress, nodeTermOf, parseClusterReply, ClusterClient,
  DEFAULT_DEDUPE_TTL_MS, clusterNodeMain,
} from '../weeks/week-12-election/mod.ts';
export type {
  ElectionErrorCode,
  ClusterRetryPolicy, AttemptOutcome, RetryInput, RetryDeps, RetryReason, RetryStopReason, RetryStep, OutcomeClass,
  ReplicatedEntry, ReplicatedSnapshot, ReplicatedApplication, StampedCommand, DedupeExpired, TtlApplyReply, TtlDedupeOptions, TtlDedupeStats,
  ClusterReply, AttemptTrace, ClusterResult, ClusterClientOptions,
} from '../weeks/week-12-election/mod.ts';
