/**
 * Runs week 3's CLI as a process: `node --import tsx weeks/week-03-event-loop/node_main.ts server run --port 0`.
 * The week's gate, failure drill and soak drill start the server through this entry
 * point, so they exercise this week's code on top of the earlier weeks' barrels.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK3_CLI } from './node_server_cli.ts';

await runMain(WEEK3_CLI);
