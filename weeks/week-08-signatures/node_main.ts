/**
 * Runs week 8's CLI as a process: `node --import tsx weeks/week-08-signatures/node_main.ts key gen NAME --dir DIR`.
 * The gate starts the key and envelope commands through this entry point.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK8_CLI } from './node_sign_cli.ts';

await runMain(WEEK8_CLI);
