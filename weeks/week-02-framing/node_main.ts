/**
 * Runs week 2's CLI as a process: `node --import tsx weeks/week-02-framing/node_main.ts echo serve --port 0`.
 * The week's gate and drill run this entry point, so they exercise this week's code
 * on top of the week 1 barrels it imports.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK2_CLI } from './node_echo_cli.ts';

await runMain(WEEK2_CLI);
