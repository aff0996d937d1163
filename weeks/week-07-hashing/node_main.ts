/**
 * Runs week 7's CLI as a process: `node --import tsx weeks/week-07-hashing/node_main.ts hash file FILE`.
 * The week's tests run this entry point, so they exercise this week's code alone; the
 * capstone's `civictrust` composes every week's groups the same way.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK7_CLI } from './node_hash_cli.ts';

await runMain(WEEK7_CLI);
