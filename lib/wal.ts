/**
 * The write-ahead log (week 10): WAL records framed with week 9's CRC32C record, the
 * segment log with `always` / `group` / `none` fsync policies and group commit, recovery
 * that cuts a torn or corrupt tail into quarantine, DurableKv, the crash-safe KV store, and the `wal` commands with `kv serve --wal`.
 * @module wal
 * @category Week 10
 */
export {
  WAL_ERRORS,
  WAL_FRAME_HEADER_BYTES, encodeWalRecord, recordsAfter, scanWal,
  entryOfCommand, commandOfRecord, ByteSlab, SLAB_BYTES,
  FSYNC_POLICIES, QUARANTINE_DIR, Wal, fsyncDir, segmentName, segmentFirstLsn, listQuarantine, repairWal,
  COMMAND_CLASSES, CRITICAL_CLASSES, MAX_SYNC_INTERVAL_MS, commandClass, describeMode, parseSyncRule, syncPolicy,
  DurableKv,
  DURABLE_KV_COMMANDS, WAL_COMMANDS, WEEK10_CLI,
} from '../weeks/week-10-wal/mod.ts';
export type {
  WalErrorCode,
  WalOp, WalEntry, WalRecord, EncodedWalRecord, ScanDamage, ScanResult,
  AppendOptions, FsyncPolicy, WalHooks, WalOptions, WalRecovery, WalDamage, WalOpened, WalRepair, WalStats,
  CommandClass, SyncMode, SyncPolicy, SyncRule,
  CrashPoint, DurableKvHooks, DurableKvOptions, DurableRecovery, CheckpointReport,
} from '../weeks/week-10-wal/mod.ts';
