/**
 * The append-only JSON-lines record log: format, atomic appends, bounded reads,
 * search (week 1).
 * @module logger
 * @category Week 01
 */
export { LOG_LEVELS, DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_BYTES_LIMIT, encodeRecord, parseRecordLine, recordToJson, formatRecord, isFieldName, isRequestId, LineSplitter, matchRecord, LogWriter, appendRecord, readLog, repairTornTail, fsError, checkPathSyntax, osError, resolveLogPath, TORN_SUFFIX } from '../weeks/week-01-cli-logger/mod.ts';
export type { LogRecord, LogLevel, FieldValue, SplitLine, RecordFilter, LogWriterOptions, AppendResult, ReadLogOptions, RepairResult, LogPath } from '../weeks/week-01-cli-logger/mod.ts';
