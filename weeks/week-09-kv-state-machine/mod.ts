/**
 * Week 9's public surface: CRC32C, the checksummed record shared with week 10's WAL,
 * the KV command contract, the deterministic KV state machine with its snapshots, the
 * snapshot directory, the KV server with its pluggable store, and the `kv` command
 * group. `lib/kv.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { KV_ERRORS } from './catalog.ts';
export type { KvErrorCode } from './catalog.ts';
export { CRC32C_POLYNOMIAL, crc32c, crc32cHex } from './crc32c.ts';
export { RECORD_HEADER_BYTES, MAX_RECORD_BODY_BYTES, encodeCrcRecord, sealCrcRecord, readU32, writeU32, decodeCrcRecord, isRecordDamage, decodeCrcRecords, parseCrcRecord } from './record.ts';
export type { DecodedRecord, RecordDamage } from './record.ts';
export { MAX_KEY_LENGTH, MAX_VALUE_BYTES, kvRequestProblem, parseKvRequest, isKvCommand } from './command.ts';
export type { KvPut, KvDelete, KvGet, KvCommand, KvRequest, KvEntry, KvPutResult, KvDeleteResult, KvGetResult, KvFailure, KvResult, KvReadResult } from './command.ts';
export { SNAPSHOT_SCHEMA_VERSION, SNAPSHOT_MAGIC, DEFAULT_DEDUPE_CAPACITY, valueHash, KvStateMachine, readSnapshotHeader } from './state_machine.ts';
export type { ApplyContext, SnapshotHeader, KvStateMachineOptions, KvStats, TextDigest } from './state_machine.ts';
export { MemoryKvStore, SerialQueue } from './store.ts';
export type { KvStore } from './store.ts';
export { KV_MSG_TYPE, MAX_KV_FRAME_BYTES, kvPayload, handleKvFrame } from './protocol.ts';
export type { KvRefusal, KvReply } from './protocol.ts';
export { SNAPSHOT_FILE, snapshotFileName, writeSnapshot, listSnapshots, loadNewestSnapshot } from './node_snapshot_dir.ts';
export type { SnapshotFailure, SnapshotLoad } from './node_snapshot_dir.ts';
export { KvServer, sendKvFrame } from './node_kv_server.ts';
export type { KvServerOptions, KvCloseOptions } from './node_kv_server.ts';
export { DEFAULT_PIPELINE_LIMITS, PipelineBackpressure } from './node_backpressure.ts';
export type { PipelineLimits } from './node_backpressure.ts';
export { readRssKiB, floodUnread } from './node_flood.ts';
export type { FloodOptions, FloodResult } from './node_flood.ts';
export { KV_COMMANDS, WEEK9_CLI, serveKv } from './node_kv_cli.ts';
export type { KvServeVariant, KvServeOpened, KvServeStopped } from './node_kv_cli.ts';
