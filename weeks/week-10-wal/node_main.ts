/**
 * Runs week 10's CLI as a process: `node --import tsx weeks/week-10-wal/node_main.ts kv serve --wal DIR --fsync group …`.
 * @module
 */
import { runMain } from '../../lib/cli.ts';
import { WEEK10_CLI } from './node_wal_cli.ts';

await runMain(WEEK10_CLI);
