/**
 * Test support shared by every week's gate: run a CLI entry point as a real process
 * and read its error code (week 1).
 * @module
 */
export { runCliProcess, errorCodeOf, TSX_LOADER } from '../weeks/week-01-cli-logger/mod.ts';
export type { CliResult, RunCliOptions } from '../weeks/week-01-cli-logger/mod.ts';
