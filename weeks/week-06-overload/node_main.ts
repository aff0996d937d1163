/**
 * Runs week 6's CLI as a process: `node --import tsx weeks/week-06-overload/node_main.ts overload serve --port 0`.
 * The gate, the drill and the backpressure report start the server through this entry.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK6_CLI } from './node_overload_cli.ts';

await runMain(WEEK6_CLI);
