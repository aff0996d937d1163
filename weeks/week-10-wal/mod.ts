/**
 * Week 10's public surface: the WAL record and its scanner, the on-disk write-ahead log
 * with its fsync policies and group commit, the sync policy per command class, recovery
 * with quarantine, DurableKv (WAL + week 9's state machine + snapshots, a week 9
 * `KvStore`), and the `wal` command group.
 * `lib/wal.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { WAL_ERRORS } from './catalog.ts';
export type { WalErrorCode } from './catalog.ts';
export { RECORD_HEADER_BYTES as WAL_FRAME_HEADER_BYTES, encodeWalRecord, recordsAfter, scanWal } from './record.ts';
export type { WalOp, WalEntry, WalRecord, EncodedWalRecord, ScanDamage, ScanResult } from './record.ts';
export { entryOfCommand, commandOfRecord } from './command_log.ts';
export { ByteSlab, SLAB_BYTES } from './byte_slab.ts';
export { FSYNC_POLICIES, QUARANTINE_DIR, Wal, fsyncDir, segmentName, segmentFirstLsn, listQuarantine, repairWal } from './node_wal.ts';
export type { AppendOptions, FsyncPolicy, WalHooks, WalOptions, WalRecovery, WalDamage, WalOpened, WalRepair, WalStats } from './node_wal.ts';
export { COMMAND_CLASSES, CRITICAL_CLASSES, MAX_SYNC_INTERVAL_MS, commandClass, describeMode, parseSyncRule, syncPolicy } from './sync_policy.ts';
export type { CommandClass, SyncMode, SyncPolicy, SyncRule } from './sync_policy.ts';
export { DurableKv } from './node_durable_kv.ts';
export type { CrashPoint, DurableKvHooks, DurableKvOptions, DurableRecovery, CheckpointReport } from './node_durable_kv.ts';
export { DURABLE_KV_COMMANDS, WAL_COMMANDS, WEEK10_CLI } from './node_wal_cli.ts';
