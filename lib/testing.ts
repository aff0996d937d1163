/**
 * Test support shared by every week's gate: run a CLI entry point as a real process
 * and read its error code, a scratch directory per test file, the code a call
 * throws, and the bad-input drive every week's `bad_input.test.ts` runs (week 1).
 * @module testing
 * @category Week 01
 */
export { runCliProcess, errorCodeOf, TSX_LOADER, makeWorkspace, thrownCode, runInProcess, badInputProblems, driveBadInput, commandsWithoutCases, makeBadPaths, NOBODY } from '../weeks/week-01-cli-logger/mod.ts';
export type { CliResult, RunCliOptions, Workspace, BadInputCase, SpecModule, BadPaths } from '../weeks/week-01-cli-logger/mod.ts';
