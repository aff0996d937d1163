/**
 * The CLI contract: command specs, help, argv parsing and dispatch (week 1).
 * @module cli
 * @category Week 01
 */
export { EXIT_HELP, intFlag, stringFlag, listFlag, choiceFlag, choiceListFlag, formatExitTable, formatMainHelp, formatGroupHelp, formatCommandHelp, runCli, runMain, nodeIo, LOG_COMMANDS } from '../weeks/week-01-cli-logger/mod.ts';
export type { CliIo, CliSpec, CommandArgs, CommandGroup, CommandSpec, FlagSpec } from '../weeks/week-01-cli-logger/mod.ts';
