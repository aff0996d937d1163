/**
 * The KV state machine (week 9): CRC32C, the checksummed record format shared with the
 * WAL, the KV command contract, the deterministic state machine with dedupe and
 * versioned keys, snapshots and the snapshot directory, the signed KV server with its
 * pluggable store, and the `kv` command group.
 * @module kv
 * @category Week 09
 */
export {
  KV_ERRORS,
  CRC32C_POLYNOMIAL, crc32c, crc32cHex,
  RECORD_HEADER_BYTES, MAX_RECORD_BODY_BYTES, encodeCrcRecord, sealCrcRecord, readU32, writeU32, decodeCrcRecord, isRecordDamage, decodeCrcRecords, parseCrcRecord,
  MAX_KEY_LENGTH, MAX_VALUE_BYTES, kvRequestProblem, parseKvRequest, isKvCommand,
  SNAPSHOT_SCHEMA_VERSION, SNAPSHOT_MAGIC, DEFAULT_DEDUPE_CAPACITY, valueHash, KvStateMachine, readSnapshotHeader,
  MemoryKvStore, SerialQueue,
  KV_MSG_TYPE, MAX_KV_FRAME_BYTES, kvPayload, handleKvFrame,
  SNAPSHOT_FILE, snapshotFileName, writeSnapshot, listSnapshots, loadNewestSnapshot,
  KvServer, sendKvFrame,
  DEFAULT_PIPELINE_LIMITS, PipelineBackpressure, readRssKiB, floodUnread,
  KV_COMMANDS, WEEK9_CLI, serveKv,
} from '../weeks/week-09-kv-state-machine/mod.ts';
export type {
  KvErrorCode,
  DecodedRecord, RecordDamage,
  KvPut, KvDelete, KvGet, KvCommand, KvRequest, KvEntry, KvPutResult, KvDeleteResult, KvGetResult, KvFailure, KvResult, KvReadResult,
  ApplyContext, SnapshotHeader, KvStateMachineOptions, KvStats, TextDigest,
  KvStore, KvRefusal, KvReply, SnapshotFailure, SnapshotLoad, KvServerOptions, KvCloseOptions, KvServeVariant, KvServeOpened, KvServeStopped,
  PipelineLimits, FloodOptions, FloodResult,
} from '../weeks/week-09-kv-state-machine/mod.ts';
