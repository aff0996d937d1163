/**
 * Week 1's error catalog: every way the CLI and the record log can fail, each with
 * one stable code. This table is the week's artifact; the CLI's `--help`, the chapter
 * and the tests all read it.
 * @module
 */
import { defineErrors } from './errors.ts';

// #region catalog
/** The error codes of the CLI contract and the append-only record log, each with its spec. */
export const LOG_ERRORS = defineErrors({
  E_USAGE_COMMAND: {
    exit: 'usage', http: 404, definite: true,
    summary: 'The command or verb does not exist',
    action: 'Run `civictrust --help` to list the commands',
  },
  E_USAGE_FLAG: {
    exit: 'usage', http: 400, definite: true,
    summary: 'A flag is unknown or badly formed',
    action: 'Run the command with `--help` to see its flags',
  },
  E_USAGE_MISSING: {
    exit: 'usage', http: 400, definite: true,
    summary: 'A required argument or flag is missing',
    action: 'Add the missing argument; `--help` shows what the command needs',
  },
  E_USAGE_VALUE: {
    exit: 'usage', http: 400, definite: true,
    summary: 'A flag value is out of range or of the wrong form',
    action: 'Give a value in the range `--help` states',
  },
  E_USAGE_EXTRA: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The command got more arguments than it takes',
    action: 'Quote a message that contains spaces, or drop the extra words',
  },
  E_PATH_INVALID: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The path is empty, too long, contains a NUL byte, loops through symbolic links, or ends in .torn (the name `log repair` keeps for torn bytes)',
    action: 'Give the path of a regular file, e.g. ./events.log',
  },
  E_PATH_NOT_FOUND: {
    exit: 'notFound', http: 404, definite: true,
    summary: 'The log file or its directory does not exist',
    action: 'Create the directory first, or check the path for typos',
  },
  E_PATH_IS_DIR: {
    exit: 'notFound', http: 409, definite: true,
    summary: 'The path names a directory where a log file was expected',
    action: 'Name a file inside the directory, e.g. DIR/events.log',
  },
  E_PATH_NOT_DIR: {
    exit: 'notFound', http: 409, definite: true,
    summary: 'A component of the path is a regular file, not a directory',
    action: 'Check the path: one of its parent names is a file',
  },
  E_PATH_PERMISSION: {
    exit: 'permission', http: 403, definite: true,
    summary: 'The operating system refused access to the log path',
    action: 'Check the file and directory permissions, the owner, and whether the disk is mounted read-only',
  },
  E_RECORD_EMPTY: {
    exit: 'data', http: 400, definite: true,
    summary: 'The record message is empty',
    action: 'Give a non-empty message',
  },
  E_RECORD_TOO_LARGE: {
    exit: 'data', http: 413, definite: true,
    summary: 'The encoded record is larger than the maximum record size',
    action: 'Shorten the message or raise `--max-bytes` (at most 1 MiB)',
  },
  E_RECORD_ENCODING: {
    exit: 'data', http: 400, definite: true,
    summary: 'The input is not valid UTF-8',
    action: 'Convert the input to UTF-8 before appending it',
  },
  E_LOG_CORRUPT: {
    exit: 'integrity', http: 422, definite: true,
    summary: 'A line of the log is not a valid record',
    action: 'Inspect the named line; `log read --skip-bad` reads past it and reports each bad line',
  },
  E_LOG_TORN_TAIL: {
    exit: 'integrity', http: 422, definite: true,
    summary: 'The last line of the log has no newline: a write was cut short',
    action: 'Run `civictrust log repair -f FILE` while nothing writes to it: it keeps the torn bytes in FILE.torn and cuts them off',
  },
  E_IO: {
    exit: 'io', http: 500, definite: false,
    summary: 'An I/O operation failed',
    action: 'Check the disk and the system log; the record may or may not have been written',
  },
  E_IO_NO_SPACE: {
    exit: 'io', http: 507, definite: false,
    summary: 'The disk is full',
    action: 'Free some space, then read the log to see whether the record was written',
  },
  E_IO_SHORT_WRITE: {
    exit: 'io', http: 500, definite: false,
    summary: 'The operating system wrote only part of a record',
    action: 'The log now ends in a torn record: free the resource that ran out, then run `civictrust log repair -f FILE` or append again (the next append closes the torn line)',
  },
  E_IO_SYNC: {
    exit: 'io', http: 500, definite: false,
    summary: 'The record was written but fsync failed, so it may not survive a crash',
    action: 'Treat the record as not durable; check the disk before appending again',
  },
  E_INTERNAL: {
    exit: 'internal', http: 500, definite: false,
    summary: 'An unexpected failure: a bug in CivicTrust',
    action: 'Report it with the command line that caused it',
  },
});
// #endregion catalog

/** A code from week 1's catalog. */
export type LogErrorCode = keyof typeof LOG_ERRORS;
