/**
 * Runs week 5's CLI as a process: `node --import tsx weeks/week-05-worker-pool/node_main.ts pool run`.
 * The week's tests run this entry point, so they exercise this week's code alone; the
 * capstone's `civictrust` composes every week's groups the same way.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK5_CLI } from './node_week5_cli.ts';

await runMain(WEEK5_CLI);
