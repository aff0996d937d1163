/**
 * Stable error codes, the one exit-code table, and the error class (week 1).
 * @module errors
 * @category Week 01
 */
export { EXIT, CivicError, defineErrors, mergeCatalogs, errorFactory, exitCodeOf, formatError, isCivicError, LOG_ERRORS } from '../weeks/week-01-cli-logger/mod.ts';
export type { ErrorCatalog, ErrorSpec, ExitCode, ExitName, LogErrorCode } from '../weeks/week-01-cli-logger/mod.ts';
