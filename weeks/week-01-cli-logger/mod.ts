/**
 * Week 1's public surface: the error catalog and exit-code table, injected time and
 * ids, the CLI contract, and the append-only record log. `lib/` re-exports from
 * here and nowhere else in this folder.
 * @module
 */
export { EXIT, CivicError, defineErrors, mergeCatalogs, errorFactory, exitCodeOf, formatError, isCivicError } from './errors.ts';
export type { ErrorCatalog, ErrorSpec, ExitCode, ExitName } from './errors.ts';
export { LOG_ERRORS } from './catalog.ts';
export type { LogErrorCode } from './catalog.ts';
export { systemClock, randomIds, steppingClock, counterIds } from './clock.ts';
export type { Clock, IdSource } from './clock.ts';
export { EXIT_HELP, intFlag, stringFlag, listFlag, choiceFlag, choiceListFlag, formatExitTable, formatMainHelp, formatGroupHelp, formatCommandHelp } from './cli.ts';
export type { CliIo, CliSpec, CommandArgs, CommandGroup, CommandSpec, FlagSpec } from './cli.ts';
export { runCli, runMain, nodeIo } from './node_cli.ts';
export { LOG_COMMANDS } from './node_log_cli.ts';
export { LOG_LEVELS, DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_BYTES_LIMIT, encodeRecord, parseRecordLine, recordToJson, formatRecord, isFieldName, isRequestId } from './record.ts';
export type { LogRecord, LogLevel, FieldValue } from './record.ts';
export { LineSplitter } from './line_splitter.ts';
export type { SplitLine } from './line_splitter.ts';
export { matchRecord } from './search.ts';
export type { RecordFilter } from './search.ts';
export { LogWriter, appendRecord, readLog, repairTornTail } from './node_log_file.ts';
export type { LogWriterOptions, AppendResult, ReadLogOptions, RepairResult } from './node_log_file.ts';
export { fsError, checkPathSyntax, osError } from './fs_errors.ts';
export { resolveLogPath, TORN_SUFFIX } from './log_path.ts';
export type { LogPath } from './log_path.ts';
export { runCliProcess, errorCodeOf, TSX_LOADER } from './node_spawn_cli.ts';
export type { CliResult, RunCliOptions } from './node_spawn_cli.ts';
export { concatBytes, readAllCapped } from './bytes.ts';
export { makeWorkspace } from './node_workspace.ts';
export { thrownCode } from './thrown_code.ts';
export { runInProcess, badInputProblems, driveBadInput, commandsWithoutCases, makeBadPaths, NOBODY } from './node_bad_input.ts';
export type { BadInputCase, SpecModule, BadPaths } from './node_bad_input.ts';
export type { Workspace } from './node_workspace.ts';
