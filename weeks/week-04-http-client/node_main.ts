/**
 * Runs week 4's CLI as a process: `node --import tsx weeks/week-04-http-client/node_main.ts http get URL`.
 * The week's tests run this entry point, so they exercise this week's code alone; the
 * capstone's `civictrust` composes every week's groups the same way.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK4_CLI } from './node_server_cli.ts';

await runMain(WEEK4_CLI);
