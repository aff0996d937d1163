/**
 * Test support shared by every week's gate: run a CLI entry point as a real process
 * and read its error code, a scratch directory per test file, and the code a call
 * throws (week 1).
 * @module testing
 * @category Week 01
 */
export { runCliProcess, errorCodeOf, TSX_LOADER, makeWorkspace, thrownCode } from '../weeks/week-01-cli-logger/mod.ts';
export type { CliResult, RunCliOptions, Workspace } from '../weeks/week-01-cli-logger/mod.ts';
