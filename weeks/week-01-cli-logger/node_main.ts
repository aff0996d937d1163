/**
 * Runs week 1's CLI as a process: `node --import tsx weeks/week-01-cli-logger/node_main.ts log read -f x.log`.
 * The week's tests and drill run this entry point, so they exercise this week's code
 * alone; the capstone's `civictrust` composes every week's groups the same way.
 * @module
 */
import { runMain } from './node_cli.ts';
import { WEEK1_CLI } from './node_log_cli.ts';

await runMain(WEEK1_CLI);
